// Reference for tokenize's --template auto test: what transformers'
// apply_chat_template(messages, tokenize=True) gives, with Hugging Face's
// own pieces: the model's chat_template rendered by @huggingface/jinja
// (messages, bos_token, eos_token, add_generation_prompt=false, tools when
// given), then encoded by the Rust tokenizers (@anush008/tokenizers) with
// addSpecialTokens false, so the template's special-token strings become
// their ids.
//
//   node chat_ids.mjs MODEL_DIR IN.jsonl OUT.jsonl
//     MODEL_DIR holds tokenizer.json and tokenizer_config.json. IN holds one
//     JSON object a line, {"messages": [...], "tools": [...]?}; OUT gets,
//     for each, {"text", "ids", "offsets"} (offsets: [start, end) of each
//     token in UTF-8 bytes of text) or {"error"} when the template raised.
//
// @huggingface/jinja is taken from scripts/jinja (scripts/install-jinja.sh)
// unless it is installed here.
import fs from "node:fs";
import path from "node:path";
import { Tokenizer } from "@anush008/tokenizers";

let Template;
try {
  ({ Template } = await import("@huggingface/jinja"));
} catch {
  ({ Template } = await import(new URL("../jinja/node_modules/@huggingface/jinja/dist/index.js", import.meta.url).href));
}

const [dir, inPath, outPath] = process.argv.slice(2);
if (!dir || !inPath || !outPath) {
  console.error("usage: node chat_ids.mjs MODEL_DIR IN.jsonl OUT.jsonl");
  process.exit(2);
}
const cfg = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));
let src = cfg.chat_template;
if (Array.isArray(src)) src = src.find((t) => t.name === "default").template;
if (typeof src !== "string" && fs.existsSync(path.join(dir, "chat_template.jinja"))) {
  src = fs.readFileSync(path.join(dir, "chat_template.jinja"), "utf8");
}
const tokenString = (v) => (v && typeof v === "object" ? v.content : v);
const tmpl = new Template(src);
const tok = Tokenizer.fromFile(path.join(dir, "tokenizer.json"));

const reqs = fs.readFileSync(inPath, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
const results = reqs.map((req) => {
  const ctx = { messages: req.messages, add_generation_prompt: false };
  for (const k of ["bos_token", "eos_token"]) {
    const v = tokenString(cfg[k]);
    if (v !== undefined && v !== null) ctx[k] = v;
  }
  if (req.tools) ctx.tools = req.tools;
  try {
    return { text: tmpl.render(ctx) };
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
});

// byteOffsets maps the code-point offsets the bindings give to UTF-8 bytes.
function byteOffsets(text, offsets) {
  const cps = Array.from(text);
  const at = new Array(cps.length + 1);
  at[0] = 0;
  for (let i = 0; i < cps.length; i++) at[i + 1] = at[i] + Buffer.byteLength(cps[i], "utf8");
  return offsets.map(([s, e]) => [at[s], at[e]]);
}

const out = fs.openSync(outPath, "w");
const opts = { addSpecialTokens: false };
const batch = 256;
for (let i = 0; i < results.length; i += batch) {
  const part = results.slice(i, i + batch);
  const texts = part.filter((r) => r.error === undefined).map((r) => r.text);
  const encs = texts.length > 0 ? await tok.encodeBatch(texts, opts) : [];
  let k = 0;
  const lines = part.map((r) => {
    if (r.error !== undefined) return JSON.stringify(r);
    const e = encs[k++];
    return JSON.stringify({ text: r.text, ids: e.getIds(), offsets: byteOffsets(r.text, e.getOffsets()) });
  });
  fs.writeSync(out, lines.join("\n") + "\n");
}
fs.closeSync(out);
