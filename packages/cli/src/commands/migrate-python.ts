/**
 * Ports the simplest inline Python of dataknobs-fsm configs to JSONata: one expression over the record
 * (`data['x'] > 5`, `data.get('tier') == 'gold' and data['n'] >= 3`, `lambda state: state.data['ok']`),
 * or `data['k'] = <expression>` statements (a transform). Anything else is left for a person to port
 * (undefined): the report then prints a TypeScript stub instead.
 */

type Token =
  | { kind: 'num'; text: string }
  | { kind: 'str'; value: string }
  | { kind: 'name'; text: string }
  | { kind: 'op'; text: string };

const OPS = [
  '**',
  '//',
  '==',
  '!=',
  '<=',
  '>=',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '(',
  ')',
  '[',
  ']',
  ',',
  ':',
  '.',
  '=',
];

function tokenize(code: string): Token[] | undefined {
  const tokens: Token[] = [];
  let i = 0;
  while (i < code.length) {
    const c = code[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^\d+(\.\d+)?([eE][-+]?\d+)?/.exec(code.slice(i));
    if (num) {
      tokens.push({ kind: 'num', text: num[0] });
      i += num[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      let value = '';
      let j = i + 1;
      while (j < code.length && code[j] !== c) {
        if (code[j] === '\\') {
          const next = code[j + 1];
          if (next === undefined) return undefined;
          value += next === 'n' ? '\n' : next === 't' ? '\t' : next;
          j += 2;
        } else value += code[j++];
      }
      if (j >= code.length) return undefined;
      tokens.push({ kind: 'str', value });
      i = j + 1;
      continue;
    }
    const name = /^[A-Za-z_]\w*/.exec(code.slice(i));
    if (name) {
      tokens.push({ kind: 'name', text: name[0] });
      i += name[0].length;
      continue;
    }
    const op = OPS.find((o) => code.startsWith(o, i));
    if (!op) return undefined;
    tokens.push({ kind: 'op', text: op });
    i += op.length;
  }
  return tokens;
}

/** JSONata for a field name: bare when it is an identifier, else in backticks (which it cannot hold). */
const fieldName = (name: string) => {
  if (/^[A-Za-z_]\w*$/.test(name)) return name;
  // Dropping the backtick would read another field: the parser's callers leave the code to a person.
  if (name.includes('`')) throw new Error(`field ${JSON.stringify(name)} has a backtick`);
  return `\`${name}\``;
};

class Parser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    /** Names that stand for the record (`data`, a lambda's parameter). */
    private readonly records: ReadonlySet<string>,
    /** What a field of the record is written as (`x`, or `$d.x` inside a transform block). */
    private readonly prefix: string,
  ) {}

  done = () => this.i >= this.tokens.length;
  private peek = (offset = 0) => this.tokens[this.i + offset];
  private isOp = (text: string, offset = 0) => {
    const t = this.peek(offset);
    return t?.kind === 'op' && t.text === text;
  };
  private isName = (text: string, offset = 0) => {
    const t = this.peek(offset);
    return t?.kind === 'name' && t.text === text;
  };
  private expectOp(text: string): void {
    if (!this.isOp(text)) throw new Error(`expected ${text}`);
    this.i++;
  }

  expression(): string {
    const value = this.or();
    if (this.isName('if')) {
      this.i++;
      const condition = this.or();
      if (!this.isName('else')) throw new Error('expected else');
      this.i++;
      return `(${condition} ? ${value} : ${this.expression()})`;
    }
    return value;
  }

  private or(): string {
    let left = this.and();
    while (this.isName('or')) {
      this.i++;
      left = `${left} or ${this.and()}`;
    }
    return left;
  }

  private and(): string {
    let left = this.not();
    while (this.isName('and')) {
      this.i++;
      left = `${left} and ${this.not()}`;
    }
    return left;
  }

  private not(): string {
    if (this.isName('not')) {
      this.i++;
      return `$not(${this.not()})`;
    }
    return this.comparison();
  }

  private comparison(): string {
    const parts: string[] = [];
    let left = this.arith();
    for (;;) {
      let op: string | undefined;
      const t = this.peek();
      if (t?.kind === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.text)) {
        op = t.text === '==' ? '=' : t.text;
        this.i++;
      } else if (this.isName('is')) {
        this.i++;
        op = '=';
        if (this.isName('not')) {
          this.i++;
          op = '!=';
        }
      } else if (this.isName('in') || (this.isName('not') && this.isName('in', 1))) {
        const negated = this.isName('not');
        this.i += negated ? 2 : 1;
        // Only membership in a literal list means the same in JSONata.
        if (!this.isOp('[')) throw new Error('in needs a list literal');
        const right = this.arith();
        parts.push(negated ? `$not(${left} in ${right})` : `${left} in ${right}`);
        left = right;
        continue;
      } else break;
      const right = this.arith();
      parts.push(`${left} ${op} ${right}`);
      left = right;
    }
    if (parts.length === 0) return left;
    return parts.length === 1 ? (parts[0] as string) : `(${parts.join(' and ')})`;
  }

  private arith(): string {
    let left = this.term();
    for (;;) {
      if (this.isOp('+')) {
        this.i++;
        const right = this.term();
        // JSONata joins strings with &; + is numbers only.
        left = left.startsWith('"') || right.startsWith('"') ? `${left} & ${right}` : `${left} + ${right}`;
      } else if (this.isOp('-')) {
        this.i++;
        left = `${left} - ${this.term()}`;
      } else return left;
    }
  }

  private term(): string {
    let left = this.factor();
    for (;;) {
      if (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
        const op = (this.peek() as { text: string }).text;
        this.i++;
        left = `${left} ${op} ${this.factor()}`;
      } else if (this.isOp('//')) {
        this.i++;
        left = `$floor(${left} / ${this.factor()})`;
      } else return left;
    }
  }

  private factor(): string {
    if (this.isOp('-')) {
      this.i++;
      return `-${this.factor()}`;
    }
    if (this.isOp('+')) {
      this.i++;
      return this.factor();
    }
    const base = this.atom();
    if (this.isOp('**')) {
      this.i++;
      return `$power(${base}, ${this.factor()})`;
    }
    return base;
  }

  private atom(): string {
    const t = this.peek();
    if (!t) throw new Error('unexpected end');
    if (t.kind === 'num') {
      this.i++;
      return t.text;
    }
    if (t.kind === 'str') {
      this.i++;
      return JSON.stringify(t.value);
    }
    if (t.kind === 'op' && t.text === '(') {
      this.i++;
      const inner = this.expression();
      this.expectOp(')');
      return `(${inner})`;
    }
    if (t.kind === 'op' && t.text === '[') {
      this.i++;
      const items: string[] = [];
      while (!this.isOp(']')) {
        items.push(this.expression());
        if (this.isOp(',')) this.i++;
        else break;
      }
      this.expectOp(']');
      return `[${items.join(', ')}]`;
    }
    if (t.kind === 'name') {
      if (t.text === 'True') return this.take('true');
      if (t.text === 'False') return this.take('false');
      if (t.text === 'None') return this.take('null');
      if (this.records.has(t.text)) return this.access();
      // `state.data[...]` (a lambda over dataknobs' state object).
      if (t.text === 'state' && this.isOp('.', 1) && this.isName('data', 2)) {
        this.i += 2;
        return this.access();
      }
    }
    throw new Error('not a simple expression');
  }

  private take(text: string): string {
    this.i++;
    return text;
  }

  /** `data['a']['b']`, `data.get('a')`, `data.get('a', default)` → a field path. */
  private access(): string {
    this.i++;
    const path: string[] = [];
    let fallback: string | undefined;
    for (;;) {
      if (this.isOp('[') && this.peek(1)?.kind === 'str' && this.isOp(']', 2)) {
        path.push((this.peek(1) as { value: string }).value);
        this.i += 3;
      } else if (
        this.isOp('.') &&
        this.isName('get', 1) &&
        this.isOp('(', 2) &&
        this.peek(3)?.kind === 'str'
      ) {
        if (fallback !== undefined) throw new Error('get after get');
        path.push((this.peek(3) as { value: string }).value);
        this.i += 4;
        if (this.isOp(',')) {
          this.i++;
          fallback = this.expression();
        }
        this.expectOp(')');
        if (fallback === undefined) fallback = 'null';
      } else break;
    }
    if (path.length === 0) throw new Error('the record itself');
    const field = `${this.prefix}${path.map(fieldName).join('.')}`;
    // .get(key, default): the default only when the key is absent, as in Python.
    return fallback !== undefined && fallback !== 'null'
      ? `($exists(${field}) ? ${field} : ${fallback})`
      : field;
  }
}

/** Splits `lambda a, b: body` into its record parameter and body. */
function lambdaParts(code: string): { record: string; body: string } | undefined {
  const match = /^lambda\s+([A-Za-z_]\w*)(\s*,\s*[A-Za-z_]\w*(\s*=\s*None)?)?\s*:(.*)$/s.exec(code);
  if (!match) return undefined;
  return { record: match[1] as string, body: match[4] as string };
}

/** A JSONata expression for an inline Python condition or value, or undefined when it is not that simple. */
export function pythonToJsonata(code: string): string | undefined {
  let body = code.trim();
  if (body.startsWith('return ')) body = body.slice(7);
  const records = new Set(['data']);
  const lambda = body.startsWith('lambda') ? lambdaParts(body) : undefined;
  if (body.startsWith('lambda') && !lambda) return undefined;
  if (lambda) {
    // `lambda state: state.data[...]` reads the record through the state object.
    if (lambda.record !== 'state') records.add(lambda.record);
    body = lambda.body.trim();
  }
  if (body.includes('\n') || body.includes(';') || /^data\s*\[[^\]]+\]\s*=(?!=)/.test(body))
    return pythonStatementsToJsonata(body);
  const tokens = tokenize(body);
  if (!tokens || tokens.length === 0) return undefined;
  try {
    const parser = new Parser(tokens, records, '');
    const out = parser.expression();
    return parser.done() ? out : undefined;
  } catch {
    // Not in the subset: the caller prints a stub for a person to port.
    return undefined;
  }
}

/**
 * `data['k'] = expr` statements (separated by `;` or lines, optionally ending in `return data`): a
 * JSONata block that applies them in order to a copy of the record.
 */
export function pythonStatementsToJsonata(code: string): string | undefined {
  const statements = code
    .split(/[;\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && s !== 'return data');
  if (statements.length === 0) return undefined;
  const steps: string[] = [];
  for (const statement of statements) {
    const match = /^data\s*\[\s*(['"])([^'"]+)\1\s*\]\s*=(?!=)(.*)$/s.exec(statement);
    if (!match) return undefined;
    const tokens = tokenize(match[3] as string);
    if (!tokens || tokens.length === 0) return undefined;
    try {
      const parser = new Parser(tokens, new Set(['data']), '$d.');
      const value = parser.expression();
      if (!parser.done()) return undefined;
      steps.push(`$d := $merge([$d, {${JSON.stringify(match[2])}: ${value}}])`);
    } catch {
      return undefined;
    }
  }
  return `($d := $; ${steps.join('; ')}; $d)`;
}
