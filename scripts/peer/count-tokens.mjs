// Counts the cl100k_base tokens of each observation file in a directory
// with js-tiktoken (OpenAI's tokenizer, ported), next to pilot's estimate
// in the file's .est twin. Run through scripts/tokens.sh.
import { getEncoding } from 'js-tiktoken';
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
const enc = getEncoding('cl100k_base');
let real = 0, est = 0, worst = 0;
const rows = [];
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
  const n = enc.encode(fs.readFileSync(path.join(dir, f), 'utf8')).length;
  const e = Number(fs.readFileSync(path.join(dir, f.replace(/\.txt$/, '.est')), 'utf8'));
  real += n; est += e;
  worst = Math.max(worst, Math.abs(e - n) / n);
  rows.push(`${f.padEnd(20)} cl100k ${String(n).padStart(6)}  estimate ${String(e).padStart(6)}  ${((e - n) / n * 100).toFixed(1).padStart(6)}%`);
}
console.log(rows.join('\n'));
console.log(`all ${rows.length} observations: cl100k ${real}, estimate ${est} (${((est - real) / real * 100).toFixed(1)}%), worst ${(worst * 100).toFixed(1)}%`);
