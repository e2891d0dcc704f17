// Lua 5.1's number and string rules as Redis 7.0's Lua runs them (glibc strtod and printf),
// and Redis's own integer arguments, for the script model.

const STRTOD =
  /^[ \t\n\v\f\r]*([+-]?)(?:0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)(?:[pP]([+-]?\d+))?|(inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?)|((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))[ \t\n\v\f\r]*$/i;

/** `tonumber(s)`: glibc strtod on the text before any NUL, then only whitespace (decimal, hex, inf, nan). */
export function luaToNumber(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const nul = text.indexOf('\0');
  const m = STRTOD.exec(nul < 0 ? text : text.slice(0, nul));
  if (m === null) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  if (m[6] !== undefined) return sign * Number(m[6]);
  if (m[5] !== undefined) return m[5].toLowerCase().startsWith('inf') ? sign * Infinity : NaN;
  const whole = m[2] ?? '';
  const fraction = m[3] ?? '';
  // "0x" with no digit: strtod stops at the x, so Lua sees trailing junk.
  if (whole + fraction === '') return undefined;
  const exponent = Number(m[4] ?? '0') - 4 * fraction.length;
  const half = Math.trunc(exponent / 2); // two steps, so no power of two overflows alone
  return sign * Number(BigInt(`0x${whole}${fraction}`)) * 2 ** half * 2 ** (exponent - half);
}

/** `string.sub(s, i, j)` with Lua's index rules (1-based, negatives from the end). */
export function luaSub(s: string, i: number, j = -1): string {
  const at = (pos: number): number => (pos < 0 ? Math.max(pos + s.length + 1, 0) : pos);
  const start = Math.max(at(i), 1);
  const end = Math.min(at(j), s.length);
  return start <= end ? s.slice(start - 1, end) : '';
}

/** |x| as n / 10^k exactly (a double is m / 2^k, so m·5^k / 10^k). */
function exact(x: number): [bigint, number] {
  let m = Math.abs(x);
  let k = 0;
  while (!Number.isInteger(m)) {
    m *= 2;
    k++;
  }
  return [BigInt(m) * 5n ** BigInt(k), k];
}

/** n / 10^k rounded half to even, as glibc's printf rounds the exact binary value. */
function roundEven(n: bigint, k: number): bigint {
  if (k <= 0) return n;
  const unit = 10n ** BigInt(k);
  const q = n / unit;
  const twice = 2n * (n % unit);
  return twice > unit || (twice === unit && q % 2n === 1n) ? q + 1n : q;
}

// NaN's sign is not tracked: glibc prints "-nan" for a negative one (Lua's 0/0), which these
// scripts never compute.
function special(x: number): string | undefined {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  return undefined;
}

const minus = (x: number): string => (x < 0 || Object.is(x, -0) ? '-' : '');

/** `string.format('%.0f', x)`: exact, half to even, `-0` for small negatives. */
export function format0(x: number): string {
  return special(x) ?? minus(x) + String(roundEven(...exact(x)));
}

/** `tostring(x)`, Lua's `%.14g`: 14 significant digits, half to even, e-notation past 1e14. */
export function luaToString(x: number): string {
  const odd = special(x);
  if (odd !== undefined) return odd;
  if (x === 0) return `${minus(x)}0`;
  const [n, k] = exact(x);
  const all = String(n);
  let power = all.length - 1 - k;
  let digits = String(roundEven(n, Math.max(all.length - 14, 0)));
  if (digits.length > 14) {
    digits = digits.slice(0, 14);
    power++;
  }
  digits = digits.replace(/0+$/, '');
  if (power < -4 || power >= 14) {
    const mantissa = digits.length > 1 ? `${digits[0]!}.${digits.slice(1)}` : digits;
    const exp = String(Math.abs(power)).padStart(2, '0');
    return `${minus(x)}${mantissa}e${power < 0 ? '-' : '+'}${exp}`;
  }
  if (power < 0) return `${minus(x)}0.${'0'.repeat(-power - 1)}${digits}`;
  const fraction = digits.slice(power + 1);
  return `${minus(x)}${digits.slice(0, power + 1).padEnd(power + 1, '0')}${fraction === '' ? '' : `.${fraction}`}`;
}

/** A Lua number as an integer reply: C's `(long long)` cast, LLONG_MIN where x86 overflows. */
export function integerReply(x: number): number {
  if (Number.isNaN(x) || x >= 2 ** 63 || x < -(2 ** 63)) return -(2 ** 63);
  return Math.trunc(x) + 0; // + 0 turns -0 into 0
}

/** `math.max`: the first argument, replaced by each later one that is greater (NaN never is). */
export function luaMax(...xs: readonly number[]): number {
  let max = xs[0]!;
  for (const x of xs) if (x > max) max = x;
  return max;
}

const luaType = (x: number | undefined): string => (x === undefined ? 'nil' : 'number');

/** Lua 5.1's message for `a < b` on non-numbers. */
export function compareError(a: number | undefined, b: number | undefined): string {
  const [ta, tb] = [luaType(a), luaType(b)];
  return ta === tb ? `attempt to compare two ${ta} values` : `attempt to compare ${ta} with ${tb}`;
}

/** LLONG_MAX, the bound of Redis's integer arguments. */
export const LLONG_MAX = 2n ** 63n - 1n;

// Lua strings are bytes: the model keeps UTF-8 bytes one char each, so string.sub and the
// 64-byte limits count as Redis does. ASCII, all the client ever sends, passes unchanged.
const NON_ASCII = /[\u0080-\uffff]/;
/** A JS string as Lua's bytes: its UTF-8, one char per byte. */
export const bytes = (s: string): string =>
  !NON_ASCII.test(s) ? s : Buffer.from(s, 'utf8').toString('latin1');
/** Lua's bytes back as a JS string, decoded as UTF-8 (as ioredis decodes replies). */
export const text = (b: string): string =>
  !NON_ASCII.test(b) ? b : Buffer.from(b, 'latin1').toString('utf8');

/** Redis's string2ll: an optional minus, no leading zero, no space, within 64 bits. */
export function string2ll(s: string): bigint | undefined {
  if (!/^(?:0|-?[1-9][0-9]*)$/.test(s)) return undefined;
  const n = BigInt(s);
  return n > LLONG_MAX || n < -LLONG_MAX - 1n ? undefined : n;
}
