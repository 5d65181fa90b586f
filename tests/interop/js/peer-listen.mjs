// `peer.mjs listen`: serve the test protocols and report, as JSON lines, every connection,
// disconnect, identify of a remote and stream reset the node sees.
import process from 'node:process'
import { diag, intOpt, loadKey, out, setDiagPrefix, stopOnSignals } from './common.mjs'
import { describeConnection, describeIdentify, makeNode, registerHandlers } from './peer-node.mjs'

// onListening() runs just before the "listening" line is written.
export async function runListen (opts, onListening) {
  setDiagPrefix('peer listen')
  const host = opts.host ?? '127.0.0.1'
  const port = intOpt(opts, 'port', 0)
  const privateKey = await loadKey(opts.seed)
  const family = host.includes(':') ? 'ip6' : 'ip4'
  const node = await makeNode(privateKey, [`/${family}/${host}/tcp/${port}`], opts)

  node.addEventListener('connection:open', (evt) => {
    out({ event: 'connection', ...describeConnection(evt.detail) })
  })
  node.addEventListener('connection:close', (evt) => {
    const conn = evt.detail
    out({ event: 'disconnect', peer: conn.remotePeer.toString(), remoteAddr: conn.remoteAddr.toString() })
  })
  node.addEventListener('peer:identify', (evt) => {
    out({ event: 'identify', ...describeIdentify(evt.detail) })
  })
  registerHandlers(node, opts, true)

  onListening()
  out({ event: 'listening', peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map((a) => a.toString()) })
  diag(`listening as ${node.peerId} on ${node.getMultiaddrs().join(' ')}`)

  const stop = stopOnSignals(node)
  if (!opts['ignore-stdin']) {
    process.stdin.on('end', () => stop('stdin closed'))
    process.stdin.on('error', () => stop('stdin error'))
    process.stdin.resume()
  }
}
