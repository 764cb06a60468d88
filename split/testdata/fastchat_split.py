"""Reference for the split stage: FastChat's split_long_conversation loop.

split_one_sample and filter_invalid_roles below are FastChat's code
(fastchat/data/split_long_conversation.py), with only the token counts
changed: FastChat calls the model's slow Hugging Face tokenizer,
len(tokenizer(value).input_ids), which is the SentencePiece ids plus BOS;
here that is len(sp.encode(value)) + 1, SentencePiece C++ itself.

Usage: python3 fastchat_split.py MODEL MAXLEN[,MAXLEN...] FILE...
Writes one JSON object to stdout:
  {"FILE": {"MAXLEN": {"fastchat": [[id, start, end, length]...],
                       "default":  [[id, start, end, length]...],
                       "template": [[id, start, end, tokens]...]}}}
"fastchat" is FastChat's output, in order. "default" is the same except
that the last pair FastChat loses when it overflows is emitted as a segment
of its own (then filtered like the others). "template" is a greedy loop with
the same shape whose length is the exact token count of the segment under
FastChat's vicuna_v1.1 template (see template_ids), each count taken on the
whole templated segment.
Records without "conversations" are skipped; records without an id use
their 0-based position in the file.

python3 fastchat_split.py --template MODEL < segments.json writes the
template ids (with BOS) of each segment (a list of turn lists).
"""
import json
import sys

import sentencepiece as spm

sp = None
max_length = None


def tok_len(value):
    return len(sp.encode(value)) + 1  # + BOS, as the HF tokenizer adds


def make_sample(sample, start_idx, end_idx):
    assert (end_idx - start_idx) % 2 == 0
    return {
        "id": sample["id"] + "_" + str(start_idx),
        "model": sample.get("model", ""),
        "conversations": sample["conversations"][start_idx:end_idx],
        "_start": start_idx,
        "_end": end_idx,
    }


# FastChat's split_one_sample, verbatim except for tok_len and the
# returned lost pair (FastChat drops it on the floor).
def split_one_sample(sample, lens_cache):
    tokenized_lens = []
    conversations = sample["conversations"]
    conversations = conversations[: len(conversations) // 2 * 2]
    for i, c in enumerate(conversations):
        length = lens_cache[i] + 6
        tokenized_lens.append(length)

    start_idx = 0
    cur_len = 0

    if len(conversations) % 2 != 0 or len(conversations) < 2:
        return [], None

    new_samples = []
    lost = None
    for i in range(0, len(conversations), 2):
        tmp_len = tokenized_lens[i] + tokenized_lens[i + 1]
        if cur_len + tmp_len > max_length:
            new_samples.append(make_sample(sample, start_idx, i))
            start_idx = i
            cur_len = 0
            if i == len(conversations) - 2:
                lost = make_sample(sample, i, i + 2)  # never emitted by FastChat
        elif i == len(conversations) - 2:
            new_samples.append(make_sample(sample, start_idx, i + 2))

        cur_len += tmp_len

    return new_samples, lost


# FastChat's filter_invalid_roles, verbatim.
def filter_invalid_roles(content):
    new_content = []
    for i, c in enumerate(content):
        roles = ["human", "gpt"]
        if len(c["conversations"]) <= 0:
            continue

        valid = True
        for j, s in enumerate(c["conversations"]):
            if s["from"] != roles[j % 2]:
                valid = False
                break

        if valid:
            new_content.append(c)

    return new_content


SYSTEM = (
    "A chat between a curious user and an artificial intelligence assistant. "
    "The assistant gives helpful, detailed, and polite answers to the user's questions."
)
EOS = "</s>"


_encoded = {}


def encode_cached(text):
    ids = _encoded.get(text)
    if ids is None:
        ids = _encoded[text] = sp.encode(text)
    return ids


def template_ids(turns):
    """The ids FastChat's trainer gets for turns under vicuna_v1.1:
    Conversation.get_prompt (SeparatorStyle.ADD_COLON_TWO) builds
    system + " " then, per message, role + ": " + message + sep (" " after
    USER, "</s>" after ASSISTANT), or role + ":" alone for an empty
    message; the tokenizer adds BOS, and "</s>" placed by the template is
    the EOS token, so the text between EOS tokens is encoded piece by
    piece (each piece with SentencePiece's dummy prefix). "</s>" inside a
    message is text."""
    seps = [" ", None]
    roles = ["USER", "ASSISTANT"]
    ids = [sp.bos_id()]
    cur = SYSTEM + seps[0]
    for i, t in enumerate(turns):
        message = t["value"]
        if message:
            cur += roles[i % 2] + ": " + message
            if i % 2 == 0:
                cur += seps[0]
            else:
                ids += encode_cached(cur)
                ids.append(sp.eos_id())
                cur = ""
        else:
            cur += roles[i % 2] + ":"
    if cur:
        ids += encode_cached(cur)
    return ids


def template_split(sample, max_len):
    """Greedy pairs as FastChat's loop, counting the whole templated segment."""
    conv = sample["conversations"]
    conv = conv[: len(conv) // 2 * 2]
    if len(conv) < 2:
        return []
    out = []
    start = 0
    for i in range(0, len(conv), 2):
        if i > start and len(template_ids(conv[start:i + 2])) > max_len:
            out.append((start, i, len(template_ids(conv[start:i]))))
            start = i
    out.append((start, len(conv), len(template_ids(conv[start:]))))
    res = []
    for s, e, n in out:
        seg = {"conversations": conv[s:e]}
        if filter_invalid_roles([seg]):
            res.append([sample["id"] + "_" + str(s), s, e, n])
    return res


def load(path):
    with open(path, encoding="utf-8") as f:
        if path.endswith(".jsonl"):
            return [json.loads(l) for l in f if l.strip()]
        data = json.load(f)
    return data if isinstance(data, list) else [data]


def main():
    global sp, max_length
    if sys.argv[1] == "--template":
        sp = spm.SentencePieceProcessor(model_file=sys.argv[2])
        json.dump([template_ids(turns) for turns in json.load(sys.stdin)], sys.stdout)
        return
    sp = spm.SentencePieceProcessor(model_file=sys.argv[1])
    max_lens = [int(x) for x in sys.argv[2].split(",")]
    result = {}
    for path in sys.argv[3:]:
        records = []
        for idx, r in enumerate(load(path)):
            if not isinstance(r, dict) or not isinstance(r.get("conversations"), list):
                continue
            r = dict(r)
            if "id" not in r:
                r["id"] = str(idx)
            records.append(r)
        lens = [[tok_len(c["value"]) for c in r["conversations"]] for r in records]
        per_file = {}
        for ml in max_lens:
            max_length = ml
            fastchat, default, template = [], [], []
            for r, lc in zip(records, lens):
                segs, lost = split_one_sample(r, lc)
                seglen = lambda s: sum(lc[s["_start"]:s["_end"]]) + 6 * (s["_end"] - s["_start"])
                for s in filter_invalid_roles(segs):
                    fastchat.append([s["id"], s["_start"], s["_end"], seglen(s)])
                if lost is not None:
                    segs = segs + [lost]
                for s in filter_invalid_roles(segs):
                    default.append([s["id"], s["_start"], s["_end"], seglen(s)])
                template.extend(template_split(r, ml))
            per_file[str(ml)] = {"fastchat": fastchat, "default": default, "template": template}
        _encoded.clear()
        result[path] = per_file
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
