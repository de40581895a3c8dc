// API orchestration: look a customer up, fetch offers only for gold customers, fan out over the cart.
import { apiOrchestrationPattern } from '@fsm/patterns';

export async function enrichCart(baseUrl: string, cart: { userId: number; skus: string[] }) {
  const { create } = apiOrchestrationPattern({
    baseUrl,
    rateLimitPerSec: 50,
    circuitBreaker: { threshold: 3, resetMs: 30_000 },
    steps: [
      { name: 'user', path: '/users/{{userId}}', target: 'user', map: { tier: 'tier' } },
      { name: 'offers', when: 'user.tier = "gold"', path: '/offers', target: 'offers' },
      { name: 'stock', forEach: 'skus', path: '/items/{{item}}', concurrency: 4, target: 'stock' },
    ],
  });
  const fsm = await create();
  try {
    return await fsm.process(cart);
  } finally {
    await fsm.close();
  }
}
