// Reference encoder for internal/tokenizer's oracle tests: Hugging Face's
// Rust tokenizers (@anush008/tokenizers, a native build).
//
//   node encode.mjs encode TOKENIZER_JSON IN.jsonl OUT.jsonl
//     IN holds one JSON string a line; OUT gets, for each, the JSON array
//     of its ids: encode(text, null, {addSpecialTokens: false}), so added
//     and special token strings in the text become their ids.
//   node encode.mjs bench TOKENIZER_JSON IN.jsonl [ROUNDS]
//     encodes every text ROUNDS times (default 3) one at a time on one
//     thread and prints {"tokens":N,"seconds":S,"tokens_per_s":R} for the
//     best round. Run with RAYON_NUM_THREADS=1.
import fs from "node:fs";
import { Tokenizer } from "@anush008/tokenizers";

const [mode, tokPath, inPath, arg] = process.argv.slice(2);
if (!["encode", "bench"].includes(mode) || !tokPath || !inPath) {
  console.error("usage: node encode.mjs encode|bench TOKENIZER_JSON IN.jsonl [OUT.jsonl|ROUNDS]");
  process.exit(2);
}
const tok = Tokenizer.fromFile(tokPath);
const texts = fs.readFileSync(inPath, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
const opts = { addSpecialTokens: false };

if (mode === "encode") {
  const out = fs.openSync(arg, "w");
  const batch = 512;
  for (let i = 0; i < texts.length; i += batch) {
    const encs = await tok.encodeBatch(texts.slice(i, i + batch), opts);
    fs.writeSync(out, encs.map((e) => JSON.stringify(e.getIds())).join("\n") + "\n");
  }
  fs.closeSync(out);
} else {
  const rounds = Number(arg || 3);
  let best = Infinity;
  let tokens = 0;
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const t0 = process.hrtime.bigint();
    // One batch on a one-thread pool: the encoding itself, without a
    // round trip to JavaScript per text.
    const encs = await tok.encodeBatch(texts, opts);
    for (const e of encs) n += e.getLength();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    best = Math.min(best, s);
    tokens = n;
  }
  console.log(JSON.stringify({ tokens, seconds: best, tokens_per_s: tokens / best }));
}
