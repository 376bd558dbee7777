// TF.js reference for a CNN encoder at a reduced input size (visionbench):
// the nsfwjs layers model rebuilt with an S×S input, features = the global
// mean over the spatial axes of the map that feeds the last average pool
// (the Go encoder's GlobalPoolBeforeFlatten; at the native size that pool
// is exactly this mean).
//
//   NODE_PATH=<dir>/node_modules node ref_resized.js MODELDIR IN OUT N S RAWSIZE
//
// IN holds N grayscale images [N, RAWSIZE, RAWSIZE, 1] float32 in [0,1],
// resized here to S×S RGB with tf.image.resizeBilinear(halfPixelCenters);
// OUT receives the features [N, D] as raw float32; stdout one JSON line.
const tf = require('@tensorflow/tfjs');
const fs = require('fs');
const path = require('path');

async function main() {
  const [dir, inPath, outPath, nStr, sStr, rawStr] = process.argv.slice(2);
  const n = +nStr, s = +sStr, raw = +rawStr;
  await tf.setBackend('cpu');
  const mj = require(path.resolve(dir, 'model.min.js'));
  const specs = [];
  const bufs = [];
  for (const g of mj.weightsManifest) {
    for (const p of g.paths) bufs.push(Buffer.from(require(path.resolve(dir, p + '.min.js')), 'base64'));
    specs.push(...g.weights);
  }
  const all = Buffer.concat(bufs);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.length);
  const topo = JSON.parse(JSON.stringify(mj.modelTopology));
  const layers = topo.model_config.config.layers;
  const byName = Object.fromEntries(layers.map(l => [l.name, l]));
  for (const l of layers) {
    if (l.class_name === 'InputLayer') l.config.batch_input_shape = [null, s, s, 3];
  }
  // The pool feeding flatten_1 and the classification head after it are
  // cut off (the model is rebuilt ending at the pool's input, the head's
  // weights are left unused); the features are the mean of that map.
  const flat = byName['flatten_1'];
  const pool = byName[flat.inbound_nodes[0][0][0]];
  if (pool.class_name !== 'AveragePooling2D') throw new Error('flatten_1 is fed by ' + pool.class_name);
  const before = pool.inbound_nodes[0][0][0];
  topo.model_config.config.layers = layers.slice(0, layers.indexOf(pool));
  topo.model_config.config.output_layers = [[before, 0, 0]];
  const fmap = await tf.loadLayersModel(tf.io.fromMemory({modelTopology: topo, weightSpecs: specs, weightData}), {strict: false});
  const predict = (x, opts) => tf.tidy(() => tf.mean(fmap.predict(x, opts), [1, 2]));

  const b = fs.readFileSync(inPath);
  const x = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
  const g = tf.tensor4d(x, [n, raw, raw, 1]);
  const input = tf.image.resizeBilinear(tf.tile(g, [1, 1, 1, 3]), [s, s], false, true);
  predict(input.slice([0, 0, 0, 0], [1, s, s, 3])).dispose(); // warm-up
  const t0 = process.hrtime.bigint();
  const y = predict(input, {batchSize: 16});
  const out = await y.data();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  fs.writeFileSync(outPath, Buffer.from(out.buffer, out.byteOffset, out.byteLength));
  console.log(JSON.stringify({dim: y.shape[1], n, seconds: secs, images_per_second: n / secs, tfjs: tf.version.tfjs, backend: tf.getBackend()}));
}
main().catch(e => { console.error(e); process.exit(1); });
