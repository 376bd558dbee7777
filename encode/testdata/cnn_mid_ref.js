// Reference features for the Go graph-model CNN encoder (mobilenet-v2-mid):
// runs an nsfwjs TF.js graph model with pure-JavaScript TF.js (CPU backend)
// in node and writes the output of one intermediate node; a feature map
// [N, H, W, C] is averaged over H and W, as the CNN@BLOCK encoders pool it.
//
//   NODE_PATH=<dir>/node_modules node cnn_mid_ref.js MODELDIR NODE IN OUT N S RAWSIZE
//
// NODE is the GraphDef node whose output is returned (the Go encoder's
// feature node). IN holds N images as raw little-endian float32: if
// RAWSIZE > 0, grayscale [N, RAWSIZE, RAWSIZE, 1] in [0,1] that this script
// resizes to S×S RGB with tf.image.resizeBilinear(halfPixelCenters=true)
// (the Go encoder's documented resize); else already-resized [N, S, S, 3].
// The graph gets values in [0,1], as nsfwjs feeds it (pixels/255). OUT
// receives the features [N, D] as raw float32; stdout gets one JSON line
// with D and the timing of a warm pass.
const tf = require('@tensorflow/tfjs');
const fs = require('fs');
const path = require('path');

async function main() {
  const [dir, node, inPath, outPath, nStr, sStr, rawStr] = process.argv.slice(2);
  const n = +nStr, s = +sStr, raw = +rawStr;
  await tf.setBackend('cpu');
  // The .min.js files are UMD bundles: require() returns the model.json
  // object or a shard's base64 string. A memory IO handler feeds them to
  // tf.loadGraphModel without any network or file URL.
  const mj = require(path.resolve(dir, 'model.min.js'));
  const specs = [];
  const bufs = [];
  for (const g of mj.weightsManifest) {
    for (const p of g.paths) bufs.push(Buffer.from(require(path.resolve(dir, p + '.min.js')), 'base64'));
    specs.push(...g.weights);
  }
  const all = Buffer.concat(bufs);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.length);
  const model = await tf.loadGraphModel(tf.io.fromMemory({modelTopology: mj.modelTopology, weightSpecs: specs, weightData}));

  const b = fs.readFileSync(inPath);
  const x = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
  let input;
  if (raw > 0) {
    const g = tf.tensor4d(x, [n, raw, raw, 1]);
    input = tf.image.resizeBilinear(tf.tile(g, [1, 1, 1, 3]), [s, s], false, true);
  } else {
    input = tf.tensor4d(x, [n, s, s, 3]);
  }
  const feat = (t) => tf.tidy(() => {
    const y = model.execute(t, node);
    return y.rank === 4 ? tf.mean(y, [1, 2]) : y;
  });
  feat(input.slice([0, 0, 0, 0], [1, s, s, 3])).dispose(); // warm-up
  const t0 = process.hrtime.bigint();
  const parts = [];
  for (let i = 0; i < n; i += 16) {
    const k = Math.min(16, n - i);
    parts.push(feat(input.slice([i, 0, 0, 0], [k, s, s, 3])));
  }
  const y = tf.concat(parts, 0);
  const out = await y.data();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  fs.writeFileSync(outPath, Buffer.from(out.buffer, out.byteOffset, out.byteLength));
  console.log(JSON.stringify({dim: y.shape[1], n, seconds: secs, images_per_second: n / secs, tfjs: tf.version.tfjs, backend: tf.getBackend()}));
}
main().catch(e => { console.error(e); process.exit(1); });
