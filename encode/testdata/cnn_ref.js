// Reference features for the Go CNN encoders: runs an nsfwjs TF.js layers
// model with pure-JavaScript TF.js (CPU backend) in node and writes the
// output of layer flatten_1, or with LAYER the global average (over height
// and width) of that layer's output, as the CNN@BLOCK encoders pool it.
//
//   NODE_PATH=<dir>/node_modules node cnn_ref.js MODELDIR IN OUT N S RAWSIZE [LAYER]
//
// IN holds N images as raw little-endian float32: if RAWSIZE > 0, grayscale
// [N, RAWSIZE, RAWSIZE, 1] in [0,1] that this script resizes to S×S RGB with
// tf.image.resizeBilinear(halfPixelCenters=true) (the Go encoder's documented
// resize); else already-resized [N, S, S, 3]. OUT receives the features
// [N, D] as raw float32; stdout gets one JSON line with D and timings.
const tf = require('@tensorflow/tfjs');
const fs = require('fs');
const path = require('path');

async function main() {
  const [dir, inPath, outPath, nStr, sStr, rawStr, layer] = process.argv.slice(2);
  const n = +nStr, s = +sStr, raw = +rawStr;
  await tf.setBackend('cpu');
  // The .min.js files are UMD bundles: require() returns the model.json
  // object or a shard's base64 string.
  const mj = require(path.resolve(dir, 'model.min.js'));
  const specs = [];
  const bufs = [];
  for (const g of mj.weightsManifest) {
    for (const p of g.paths) bufs.push(Buffer.from(require(path.resolve(dir, p + '.min.js')), 'base64'));
    specs.push(...g.weights);
  }
  const all = Buffer.concat(bufs);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.length);
  const model = await tf.loadLayersModel(tf.io.fromMemory({modelTopology: mj.modelTopology, weightSpecs: specs, weightData}));
  const net = tf.model({inputs: model.inputs, outputs: model.getLayer(layer || 'flatten_1').output});
  const feat = {predict: (t, opts) => tf.tidy(() => {
    const y = net.predict(t, opts);
    return layer ? tf.mean(y, [1, 2]) : y;
  })};

  const b = fs.readFileSync(inPath);
  const x = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
  let input;
  if (raw > 0) {
    const g = tf.tensor4d(x, [n, raw, raw, 1]);
    input = tf.image.resizeBilinear(tf.tile(g, [1, 1, 1, 3]), [s, s], false, true);
  } else {
    input = tf.tensor4d(x, [n, s, s, 3]);
  }
  feat.predict(input.slice([0, 0, 0, 0], [1, s, s, 3])).dispose(); // warm-up
  const t0 = process.hrtime.bigint();
  const y = feat.predict(input, {batchSize: 16});
  const out = await y.data();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  fs.writeFileSync(outPath, Buffer.from(out.buffer, out.byteOffset, out.byteLength));
  console.log(JSON.stringify({dim: y.shape[1], n, seconds: secs, images_per_second: n / secs, tfjs: tf.version.tfjs, backend: tf.getBackend()}));
}
main().catch(e => { console.error(e); process.exit(1); });
