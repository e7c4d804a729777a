'use strict';
const { TestEnvironment } = require('jest-environment-node');

/**
 * Jest runs each test file in its own V8 context, whose typed-array constructors differ from the
 * ones onnxruntime-node's native binding creates, so `instanceof Float32Array` checks inside
 * onnxruntime-common fail. Hand the sandbox the outer realm's constructors.
 */
class OnnxEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of [
      'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Float32Array', 'Float64Array', 'Int8Array', 'Uint8Array',
      'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array',
    ]) {
      this.global[name] = globalThis[name];
    }
  }
}

module.exports = OnnxEnvironment;
