#!/usr/bin/env node
// js-libp2p mDNS peer for Peer Compute's discovery tests: a js-libp2p node with @libp2p/mdns
// (query every second) that listens on TCP and reports every peer it discovers. With --ping ID
// it dials and pings that peer as soon as mDNS reports it (by peer id only: the address comes
// from discovery), and exits 0 after a successful ping.
// stdout: JSON lines {"event":"listening"|"discovered"|"ping",...}; diagnostics on stderr.
//
// usage: mdns.mjs [--seed HEX32] [--host IP] [--ping PEER_ID] [--seconds N]
import './polyfill.mjs'
import process from 'node:process'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair, generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { mdns } from '@libp2p/mdns'
import { peerIdFromString } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'

function out (obj) { process.stdout.write(JSON.stringify(obj) + '\n') }
function diag (...parts) { process.stderr.write(`[mdns.mjs ${new Date().toISOString()}] ${parts.join(' ')}\n`) }

const opts = {}
const argv = process.argv.slice(2)
for (let i = 0; i < argv.length; i++) {
  const name = argv[i].replace(/^--/, '')
  if (!['seed', 'host', 'ping', 'seconds'].includes(name) || i + 1 >= argv.length) {
    process.stderr.write('usage: mdns.mjs [--seed HEX32] [--host IP] [--ping PEER_ID] [--seconds N]\n')
    process.exit(2)
  }
  opts[name] = argv[++i]
}
const seconds = Number(opts.seconds ?? 30)
const privateKey = opts.seed
  ? await generateKeyPairFromSeed('Ed25519', Uint8Array.from(Buffer.from(opts.seed, 'hex')))
  : await generateKeyPair('Ed25519')

const node = await createLibp2p({
  privateKey,
  addresses: { listen: [`/ip4/${opts.host ?? '0.0.0.0'}/tcp/0`] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  peerDiscovery: [mdns({ interval: 1000 })],
  services: { identify: identify(), ping: ping() }
})

let pinging = false
node.addEventListener('peer:discovery', (evt) => {
  const id = evt.detail.id.toString()
  out({ event: 'discovered', id, addrs: evt.detail.multiaddrs.map(String) })
  if (opts.ping && id === opts.ping && !pinging) {
    pinging = true
    ;(async () => {
      try {
        const rtt = await node.services.ping.ping(peerIdFromString(id), { signal: AbortSignal.timeout(10000) })
        out({ event: 'ping', id, ok: true, rtt })
        await node.stop()
        process.exit(0)
      } catch (err) {
        diag('ping failed:', err?.message ?? String(err))
        out({ event: 'ping', id, ok: false, error: String(err?.message ?? err) })
        pinging = false // try again at the next discovery
      }
    })()
  }
})

await node.start()
out({ event: 'listening', id: node.peerId.toString(), addrs: node.getMultiaddrs().map(String) })
setTimeout(async () => {
  diag(`no result within ${seconds} s`)
  await node.stop()
  process.exit(opts.ping ? 1 : 0)
}, seconds * 1000)
process.on('SIGTERM', async () => { await node.stop(); process.exit(0) })
