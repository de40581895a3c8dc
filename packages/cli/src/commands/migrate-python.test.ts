import { describe, expect, it } from 'vitest';
import { pythonToJsonata } from './migrate-python.js';

describe('inline Python → JSONata', () => {
  it.each([
    ["data['x'] > 5", 'x > 5'],
    ['data["total"] >= 1000 and data[\'region\'] == "EU"', 'total >= 1000 and region = "EU"'],
    ["data.get('tier') == 'gold' or not data['vip']", 'tier = "gold" or $not(vip)'],
    ["data.get('n', 0) < 3", '($exists(n) ? n : 0) < 3'],
    ["data['a']['b'] is None", 'a.b = null'],
    ["data['a'] is not None", 'a != null'],
    ["data['status'] in ['new', 'open']", 'status in ["new", "open"]'],
    ["data['status'] not in ['new']", '$not(status in ["new"])'],
    ["0 < data['n'] <= 10", '(0 < n and n <= 10)'],
    ["lambda state: state.data['ok'] == True", 'ok = true'],
    ["lambda d, ctx=None: d['n'] // 2 + 2 ** 3", '$floor(n / 2) + $power(2, 3)'],
    ["data['first name'] + ' x'", '`first name` & " x"'],
    ["'big' if data['n'] > 5 else 'small'", '(n > 5 ? "big" : "small")'],
    ['return data["x"] != -1', 'x != -1'],
    ["data['n'] = data['n'] + 1", '($d := $; $d := $merge([$d, {"n": $d.n + 1}]); $d)'],
    [
      "data['a'] = 1; data['b'] = data['a'] * 2; return data",
      '($d := $; $d := $merge([$d, {"a": 1}]); $d := $merge([$d, {"b": $d.a * 2}]); $d)',
    ],
  ])('%s', (python, jsonata) => {
    expect(pythonToJsonata(python)).toBe(jsonata);
  });

  it.each([
    'len(data["items"]) > 2',
    "data['s'].startswith('x')",
    "'x' in data['s']",
    'def f(data):\n    return data',
    'import os',
    'data',
    "data['x'] = compute(data)",
    "data['x'",
    // JSONata cannot name a field with a backtick: not another field (`ab`) instead.
    "data['a`b'] > 5",
    "data.get('`') == 1",
  ])('leaves %s for a person to port', (python) => {
    expect(pythonToJsonata(python)).toBeUndefined();
  });
});
