// Node 20 lacks Promise.withResolvers (added in Node 22), which js-libp2p 3.x calls at runtime.
// Load with `node --import ./polyfill.mjs ...`; peer.mjs also imports it first so a bare
// `node peer.mjs` works too.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve
    let reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
