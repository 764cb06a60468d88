// Independent readers for the files sharegpt writes, used by
// internal/columnar/readers_test.go: DuckDB reads Parquet, apache-arrow (JS) reads
// Arrow IPC files and streams. Prints one JSON object per row on stdout.
//
//   node read.mjs parquet FILE...        records (the sharegpt record schema folded back)
//   node read.mjs arrow FILE...          same, from Arrow IPC (file or stream format)
//   node read.mjs parquet --raw FILE...  rows as they are, one member per column
//   node read.mjs arrow --raw FILE...
//   node read.mjs arrow --schema FILE    the schema (fields and types) and metadata keys
//
// 64-bit integers are printed as JSON numbers (they must fit in 2^53).
import { readFileSync } from 'node:fs';

const [mode, ...rest] = process.argv.slice(2);
const raw = rest.includes('--raw');
const schemaOnly = rest.includes('--schema');
const files = rest.filter((a) => !a.startsWith('--'));
if (!['parquet', 'arrow'].includes(mode) || files.length === 0) {
  console.error('usage: node read.mjs parquet|arrow [--raw|--schema] FILE...');
  process.exit(2);
}

// plain turns JS values (BigInt, Arrow vectors and rows) into JSON values.
function plain(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(-Number.MAX_SAFE_INTEGER)) {
      throw new Error(`integer ${v} does not fit a JSON number`);
    }
    return Number(v);
  }
  if (typeof v !== 'object') return v;
  if (ArrayBuffer.isView(v)) return Array.from(v, plain);
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v.toArray === 'function' && typeof v.length === 'number') return Array.from(v.toArray(), plain);
  if (typeof v.toJSON === 'function') return plain(v.toJSON());
  // DuckDB values: lists have .items, structs have .entries.
  if (Array.isArray(v.items)) return v.items.map(plain);
  if (v.entries && typeof v.entries === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v.entries)) o[k] = plain(x);
    return o;
  }
  const o = {};
  for (const [k, x] of Object.entries(v)) o[k] = plain(x);
  return o;
}

const typed = ['model', 'lang', 'n_tokens', 'augmented_from'];
const known = new Set(['id', 'conversations', ...typed, 'augmentation', 'extra', '_layout']);

// toRecord folds a row of the record schema back into its JSON record
// (member order aside: the comparison is on canonical JSON).
function toRecord(row) {
  const rec = {};
  if (row.id != null) rec.id = row.id;
  if (row.conversations != null) {
    rec.conversations = row.conversations.map((t) => ({ from: t.from, value: t.value }));
  }
  for (const k of typed) if (row[k] != null) rec[k] = row[k];
  if (row.augmentation != null) rec.augmentation = JSON.parse(row.augmentation);
  for (const [k, v] of Object.entries(row)) if (!known.has(k) && v != null) rec[k] = v;
  if (row.extra != null) Object.assign(rec, JSON.parse(row.extra));
  if (row._layout != null) {
    const layout = JSON.parse(row._layout);
    for (const t of layout.turns ?? []) Object.assign(rec.conversations[t.index], t.fields ?? {});
  }
  return rec;
}

const out = [];
const emit = (row) => {
  out.push(JSON.stringify(raw ? row : toRecord(row)));
  if (out.length >= 1000) {
    process.stdout.write(out.join('\n') + '\n');
    out.length = 0;
  }
};

if (mode === 'arrow') {
  const { tableFromIPC } = await import('apache-arrow');
  for (const f of files) {
    const table = tableFromIPC(readFileSync(f));
    if (schemaOnly) {
      const fields = table.schema.fields.map((x) => ({ name: x.name, type: String(x.type), nullable: x.nullable }));
      console.log(JSON.stringify({ fields, metadata: [...table.schema.metadata.keys()], rows: table.numRows, batches: table.batches.length }));
      continue;
    }
    const names = table.schema.fields.map((x) => x.name);
    const cols = names.map((n) => table.getChild(n));
    for (let i = 0; i < table.numRows; i++) {
      const row = {};
      names.forEach((n, j) => { row[n] = plain(cols[j].get(i)); });
      emit(row);
    }
  }
} else {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await db.connect();
  for (const f of files) {
    const q = `SELECT * FROM read_parquet('${f.replaceAll("'", "''")}')`;
    const reader = await conn.runAndReadAll(q);
    const names = reader.columnNames();
    for (const values of reader.getRows()) {
      const row = {};
      names.forEach((n, j) => { row[n] = plain(values[j]); });
      emit(row);
    }
  }
}
if (out.length) process.stdout.write(out.join('\n') + '\n');
