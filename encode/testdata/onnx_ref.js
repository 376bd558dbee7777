// ONNX Runtime reference for encode/onnx_test.go (parity only, not a
// project dependency). Run with NODE_PATH pointing at an npm prefix holding
// onnxruntime-node@1.30.0 and bert-tokenizer@1.1.8.
//
// stdin: {"model": PATH, "ids": [[...], ...], "texts": [...]}
// stdout: {"hidden": [[T*H floats], ...], "tokens": [[ids], ...]}
// Each sentence runs alone (batch 1, no padding); token_type_ids are 0.
const fs = require('fs');
const ort = require('onnxruntime-node');
const { BertTokenizer } = require('bert-tokenizer');

(async () => {
  const inp = JSON.parse(fs.readFileSync(0, 'utf8'));
  const out = { hidden: [], tokens: [] };
  if (inp.model) {
    const sess = await ort.InferenceSession.create(inp.model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    for (const ids of inp.ids) {
      const t = ids.length;
      const feeds = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, t]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(t).fill(1n), [1, t]),
        token_type_ids: new ort.Tensor('int64', new BigInt64Array(t), [1, t]),
      };
      const r = await sess.run(feeds);
      out.hidden.push(Array.from(r.last_hidden_state.data));
    }
  }
  if (inp.texts) {
    const tok = new BertTokenizer(undefined, true, 512);
    for (const s of inp.texts) out.tokens.push(tok.tokenize(s));
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
