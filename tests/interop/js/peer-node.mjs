// The js-libp2p node of peer.mjs (TCP + Noise + yamux + identify + ping, with the remote's Noise
// extensions recorded), the test protocols it serves in both modes (/echo, /sink, /reset; see
// README.md) and the JSON descriptions of a connection and of an identify result.
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { publicKeyFromProtobuf } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { intOpt, out } from './common.mjs'
import { MiB, waitDrain } from './peer-streams.mjs'

export const ECHO = '/echo/1.0.0'
export const SINK = '/sink/1.0.0'
export const RESET = '/reset/1.0.0'
export const PING = '/ipfs/ping/1.0.0'

// ---------------------------------------------------------------------------------------------
// Node construction

// Remembers, per remote peer, what the remote put in the Noise handshake extensions.
const noiseSeen = new Map()

// With early = false the remote's stream_muxers list is also ignored (js honours it by default
// even when it offers none itself), so the muxer is always chosen by multistream-select.
function observedNoise (init, early) {
  const factory = noise(init)
  return (components) => {
    const enc = factory(components)
    for (const method of ['secureInbound', 'secureOutbound']) {
      const original = enc[method].bind(enc)
      enc[method] = async (connection, options) => {
        let result = await original(connection, options)
        if (!early) result = { ...result, streamMuxer: undefined }
        noiseSeen.set(result.remotePeer.toString(), {
          remoteStreamMuxers: result.remoteExtensions?.streamMuxers ?? [],
          earlyMuxer: result.streamMuxer?.protocol ?? null
        })
        return result
      }
    }
    return enc
  }
}

export async function makeNode (privateKey, listen, opts) {
  const maxStreams = intOpt(opts, 'max-streams', 1024, 1)
  const noiseInit = opts['no-noise-muxers'] ? { extensions: { streamMuxers: [] } } : {}
  return createLibp2p({
    privateKey,
    addresses: { listen },
    transports: [tcp()],
    connectionEncrypters: [observedNoise(noiseInit, !opts['no-noise-muxers'])],
    streamMuxers: [yamux({
      maxInboundStreams: maxStreams,
      maxOutboundStreams: maxStreams,
      // A paused stream buffers up to its receive window (<= 16 MiB); js's default 4 MiB read
      // buffer limit would reset it, so allow a full maximum window.
      streamOptions: { maxReadBufferLength: 16 * MiB + 64 * 1024 }
    })],
    services: {
      identify: identify(),
      // js default: 1 outbound ping stream per connection; the monitor may hold it when a
      // scenario pings, so allow 2 (the remote js listener accepts 2 inbound).
      ping: ping({ maxOutboundStreams: 2 })
    },
    connectionManager: {
      // Loopback peers bypass js's inbound rate limit (5 connections/s/host by default), which
      // would otherwise refuse bench-connect's sequential connections.
      allow: ['/ip4/127.0.0.0/ipcidr/8', '/ip6/::1/ipcidr/128'],
      maxConnections: 10000,
      maxIncomingPendingConnections: 1000
    },
    connectionMonitor: { pingInterval: intOpt(opts, 'ping-interval', 10000, 1) }
  })
}

// ---------------------------------------------------------------------------------------------
// Protocol handlers (served in both modes)

// yamux 8.0.1 handles a frame's FIN flag before its payload: 'end' fires, then the same frame's
// data is delivered. Deferring the end-of-input action to a microtask lets that data arrive first,
// so a remote that sends FIN on its last Data frame is served correctly.
function afterFrame (fn) {
  return () => queueMicrotask(fn)
}

export function registerHandlers (node, opts, emitEvents) {
  const maxStreams = intOpt(opts, 'max-streams', 1024, 1)
  const handlerOpts = { maxInboundStreams: maxStreams, maxOutboundStreams: maxStreams }

  const watch = (stream, connection) => {
    if (!emitEvents) return
    stream.addEventListener('close', (evt) => {
      if (evt.error != null && evt.local !== true) {
        out({ event: 'reset', protocol: stream.protocol, peer: connection.remotePeer.toString(), error: evt.error.name })
      }
    })
  }

  // /echo/1.0.0: write back every byte; when the remote closes its write side and everything
  // was written back, close ours. Reading pauses (no yamux window updates) while the send side
  // waits for the remote to consume.
  node.handle(ECHO, (stream, connection) => {
    watch(stream, connection)
    stream.addEventListener('message', (evt) => {
      try {
        if (!stream.send(evt.data)) {
          if (stream.readStatus === 'readable') stream.pause()
          waitDrain(stream).then(() => {
            if (stream.readStatus === 'paused') stream.resume()
          }, () => {})
        }
      } catch (err) {
        stream.abort(err)
      }
    })
    const finish = () => { stream.close().catch((err) => stream.abort(err)) }
    if (stream.readableEnded) finish()
    else stream.addEventListener('end', afterFrame(finish), { once: true })
  }, handlerOpts)

  // /sink/1.0.0: count bytes to EOF, then write the count as 8 bytes big-endian and close.
  node.handle(SINK, (stream, connection) => {
    watch(stream, connection)
    let count = 0n
    stream.addEventListener('message', (evt) => { count += BigInt(evt.data.byteLength) })
    const finish = () => {
      const reply = Buffer.alloc(8)
      reply.writeBigUInt64BE(count)
      try {
        stream.send(reply)
        stream.close().catch((err) => stream.abort(err))
      } catch (err) {
        stream.abort(err)
      }
    }
    if (stream.readableEnded) finish()
    else stream.addEventListener('end', afterFrame(finish), { once: true })
  }, handlerOpts)

  // /reset/1.0.0: reset right after protocol negotiation.
  node.handle(RESET, (stream) => {
    stream.abort(new Error('/reset/1.0.0 resets every stream'))
  }, handlerOpts)
}

// ---------------------------------------------------------------------------------------------
// JSON descriptions

export function describeConnection (conn) {
  const peer = conn.remotePeer.toString()
  const seen = noiseSeen.get(peer)
  return {
    peer,
    direction: conn.direction,
    remoteAddr: conn.remoteAddr.toString(),
    encryption: conn.encryption ?? null,
    muxer: conn.multiplexer ?? null,
    noiseRemoteStreamMuxers: seen?.remoteStreamMuxers ?? null,
    earlyMuxerNegotiation: seen == null ? null : seen.earlyMuxer != null
  }
}

export function describeIdentify (result) {
  let publicKeyMatches = false
  try {
    if (result.publicKey != null) {
      publicKeyMatches = peerIdFromPublicKey(publicKeyFromProtobuf(result.publicKey)).equals(result.peerId)
    }
  } catch {}
  return {
    peer: result.peerId.toString(),
    protocols: result.protocols,
    agentVersion: result.agentVersion ?? null,
    protocolVersion: result.protocolVersion ?? null,
    listenAddrs: result.listenAddrs.map((a) => a.toString()),
    observedAddr: result.observedAddr?.toString() ?? null,
    publicKeyMatches,
    signedPeerRecord: result.signedPeerRecord == null
      ? null
      : { seq: result.signedPeerRecord.seq.toString(), addrs: result.signedPeerRecord.addresses.map((a) => a.toString()) }
  }
}
