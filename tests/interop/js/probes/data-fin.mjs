// Probe: how does js-libp2p (yamux 8.0.1) treat a yamux Data frame that carries FIN together with
// its payload? js itself always sends FIN on a separate zero-length WindowUpdate frame, so this
// patches one outbound stream at a time to merge its last Data frame with the FIN, then checks
// what the remote js peer does with it. Usage: node probes/data-fin.mjs <multiaddr of peer.mjs listen>
// Observed with the pinned versions: peer.mjs's /echo/1.0.0 and /sink/1.0.0 handle it (they defer
// their end-of-input action), js's own /ipfs/ping/1.0.0 responder drops the payload and just
// closes. Exit status is non-zero only if peer.mjs's handlers get it wrong.
import '../polyfill.mjs'
import { randomBytes } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

const FIN = 0x4
const DATA = 0x0

// Hold each outgoing Data frame until the end of the tick; if the stream closes its write side in
// that tick, send the held frame with FIN set instead of a separate WindowUpdate+FIN frame.
function mergeFin (stream) {
  const send = stream.sendFrame
  let held = null
  let merged = false
  stream.sendFrame = (header, data) => {
    if (header.type !== DATA) return send(header, data)
    if (held != null) send(held.header, held.data)
    held = { header: { ...header }, data: data.subarray() }
    setImmediate(() => { if (held != null) { send(held.header, held.data); held = null } })
    return true
  }
  stream.sendCloseWrite = async () => {
    if (held != null) {
      held.header.flag |= FIN
      send(held.header, held.data)
      held = null
      merged = true
    } else {
      send({ type: 1, flag: FIN, streamID: stream.streamId, length: 0 })
    }
  }
  return () => merged
}

function collect (stream) {
  const bufs = []
  return new Promise((resolve) => {
    stream.addEventListener('message', (e) => { if (e.data instanceof Uint8Array) bufs.push(e.data); else for (const b of e.data) bufs.push(b) })
    const done = (why) => resolve({ why, data: Buffer.concat(bufs) })
    stream.addEventListener('end', () => done('end'))
    stream.addEventListener('close', (e) => done(e.error ? `close: ${e.error.name}` : 'close'))
    setTimeout(() => done('timeout'), 5000)
  })
}

const node = await createLibp2p({
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: { identify: identify(), ping: ping() },
  connectionManager: { allow: ['/ip4/127.0.0.0/ipcidr/8'] }
})
const conn = await node.dial(multiaddr(process.argv[2]))
let bad = 0
for (const [protocol, size, expect] of [['/echo/1.0.0', 1000, 'echo'], ['/ipfs/ping/1.0.0', 32, 'echo'], ['/sink/1.0.0', 1000, 'count']]) {
  const stream = await conn.newStream(protocol)
  const wasMerged = mergeFin(stream)
  const reply = collect(stream)
  const payload = randomBytes(size)
  stream.send(payload)
  await stream.close()
  const { why, data } = await reply
  const ok = expect === 'echo' ? data.equals(payload) : data.length === 8 && data.readBigUInt64BE() === BigInt(size)
  if (!ok && protocol !== '/ipfs/ping/1.0.0') bad++
  console.log(JSON.stringify({ protocol, dataWithFin: wasMerged(), sent: size, received: data.length, ended: why, ok }))
}
await node.stop()
process.exit(bad ? 1 : 0)
