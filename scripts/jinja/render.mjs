// Renders chat templates with Hugging Face's own Jinja implementation
// (@huggingface/jinja), the oracle of internal/chat's Jinja tests.
// Input on stdin, one JSON object a line:
//   {"template": "...", "context": {"messages": [...], "bos_token": ..., ...}}
// ("template" may be omitted after the first line to reuse the last one).
// Output on stdout, one JSON object a line: {"text": "..."} or {"error": "..."}.
import { Template } from "@huggingface/jinja";
import { createInterface } from "node:readline";

let src = null;
let tmpl = null;
const out = [];
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line === "") continue;
  const req = JSON.parse(line);
  try {
    if (req.template !== undefined && req.template !== src) {
      src = req.template;
      tmpl = new Template(src);
    }
    out.push(JSON.stringify({ text: tmpl.render(req.context) }));
  } catch (e) {
    out.push(JSON.stringify({ error: String(e && e.message ? e.message : e) }));
  }
  if (out.length >= 256) {
    process.stdout.write(out.join("\n") + "\n");
    out.length = 0;
  }
}
if (out.length > 0) process.stdout.write(out.join("\n") + "\n");
