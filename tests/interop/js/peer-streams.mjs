// Stream helpers of peer.mjs: writing with backpressure, buffered reading, the deterministic
// test payload and timing statistics. Event based: js's async iterator drops the payload of a
// Data frame that also carries FIN, so every reader here listens for 'message' instead.
import { createCipheriv } from 'node:crypto'

export const MiB = 1024 * 1024

export const round3 = (v) => Math.round(v * 1000) / 1000

export function eachBuf (data, fn) {
  if (data instanceof Uint8Array) fn(data)
  else for (const b of data) fn(b)
}

export function waitDrain (stream) {
  // stream.onDrain() is not usable: it caches one promise that stays resolved after the first
  // drain, so later calls return at once and backpressure is lost.
  return new Promise((resolve, reject) => {
    const onDrain = () => { cleanup(); resolve() }
    const onClose = (evt) => { cleanup(); reject(evt.error ?? new Error('stream closed while waiting for drain')) }
    const cleanup = () => {
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('close', onClose)
    }
    stream.addEventListener('drain', onDrain)
    stream.addEventListener('close', onClose)
  })
}

export async function sendAll (stream, bufs) {
  for (const buf of bufs) {
    if (!stream.send(buf)) await waitDrain(stream)
  }
}

// Buffers everything the remote sends; read(n) waits for n bytes, drain() until the remote's EOF.
export class Reader {
  constructor (stream, onChunk) {
    this.bufs = []
    this.len = 0
    this.total = 0
    this.ended = stream.readableEnded
    this.error = null
    this.wakeup = null
    this.onChunk = onChunk
    stream.addEventListener('message', (evt) => {
      eachBuf(evt.data, (b) => {
        this.total += b.byteLength
        if (this.onChunk != null) this.onChunk(b)
        else { this.bufs.push(b); this.len += b.byteLength }
      })
      this.wake()
    })
    stream.addEventListener('end', () => { this.ended = true; this.wake() })
    stream.addEventListener('close', (evt) => {
      if (evt.error != null) this.error = evt.error
      this.ended = true
      this.wake()
    })
  }

  wake () {
    const w = this.wakeup
    this.wakeup = null
    if (w != null) w()
  }

  async wait () {
    await new Promise((resolve) => { this.wakeup = resolve })
  }

  async read (n) {
    while (this.len < n) {
      if (this.error != null) throw this.error
      if (this.ended) throw new Error(`stream ended after ${this.len} of ${n} bytes`)
      await this.wait()
    }
    const all = Buffer.concat(this.bufs, this.len)
    const head = all.subarray(0, n)
    this.bufs = all.length > n ? [all.subarray(n)] : []
    this.len -= n
    return head
  }

  async drain () {
    while (!this.ended) await this.wait()
    if (this.error != null) throw this.error
    const all = Buffer.concat(this.bufs, this.len)
    this.bufs = []
    this.len = 0
    return all
  }
}

// Deterministic pseudo-random bytes: the ChaCha20 keystream (RFC 8439 block function) for
// key = 00 01 .. 1f and a zero counter+nonce, yielded in chunks of `chunk` bytes.
export function * keystream (total, chunk = MiB) {
  const cipher = createCipheriv('chacha20', Buffer.from([...Array(32).keys()]), Buffer.alloc(16))
  const zeros = Buffer.alloc(chunk)
  for (let left = total; left > 0; left -= chunk) {
    const n = Math.min(chunk, left)
    yield cipher.update(n === chunk ? zeros : zeros.subarray(0, n))
  }
}

export function stats (samples) {
  const s = [...samples].sort((a, b) => a - b)
  const q = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]
  const r = (v) => Math.round(v * 1000) / 1000
  return {
    n: s.length,
    medianMs: r(s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2),
    p90Ms: r(q(0.9)),
    minMs: r(s[0]),
    maxMs: r(s[s.length - 1]),
    meanMs: r(s.reduce((a, b) => a + b, 0) / s.length)
  }
}
