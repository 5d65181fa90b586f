// Shared pieces of the circuit relay v2 interop scripts (relay.mjs, reserver.mjs, dialer.mjs).
// stdout carries machine-readable lines only, one per line, words separated by single spaces
// (`READY <peer-id> <multiaddr>`, ...); diagnostics go to stderr. See README.md.
import './polyfill.mjs'
import process from 'node:process'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { diag, errText as errTextLines, setDiagPrefix, UsageError } from './common.mjs'

// The plumbing shared with peer.mjs, re-exported so the relay scripts import from one place.
export {
  diag, intOpt, loadKey, setDiagPrefix, sleep, stopOnSignals, UsageError, withTimeout
} from './common.mjs'

export const ECHO = '/echo/1.0.0'

setDiagPrefix('relay-interop') // until the script names itself

export function line (...words) {
  // Synchronous for files and pipes on Linux, so every line is flushed before the next step.
  process.stdout.write(words.join(' ') + '\n')
}

export function errText (err) {
  // One line: drop stack frames some messages embed, fold the rest.
  return errTextLines(err).split('\n').filter((l) => !/^\s+at /.test(l)).join(' ').replace(/\s+/g, ' ').trim()
}

// spec: { value: [names], multi: [names], bool: [names] }. Multi flags collect into arrays.
export function parseArgs (argv, spec) {
  const opts = { positional: [] }
  for (const m of spec.multi ?? []) opts[m] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--')) { opts.positional.push(arg); continue }
    let name = arg.slice(2)
    let value
    const eq = name.indexOf('=')
    if (eq >= 0) { value = name.slice(eq + 1); name = name.slice(0, eq) }
    if ((spec.bool ?? []).includes(name) || name === 'help') {
      if (value !== undefined) throw new UsageError(`--${name} takes no value`)
      opts[name] = true
      continue
    }
    const multi = (spec.multi ?? []).includes(name)
    if (!multi && !(spec.value ?? []).includes(name)) throw new UsageError(`unknown option --${name}`)
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`)
      value = argv[++i]
    }
    if (multi) opts[name].push(value)
    else opts[name] = value
  }
  return opts
}

// The libp2p options every role shares; callers add transports, listen addresses and services.
export function baseOptions (privateKey) {
  return {
    privateKey,
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ping: ping() },
    connectionManager: {
      // Loopback peers bypass js's inbound rate limit (5 connections/s/host by default).
      allow: ['/ip4/127.0.0.0/ipcidr/8', '/ip6/::1/ipcidr/128'],
      maxConnections: 1000
    }
  }
}

export function tcpTransport () { return tcp() }

// A connection is "limited" in js when the relay announced a Limit with a non-zero field.
export function limitWord (conn) { return conn.limits != null ? 'limited' : 'unlimited' }

// /echo/1.0.0 responder: writes back every byte and closes after the remote's EOF.
// runOnLimitedConnection: a relay that announces a Limit makes the connection "limited", and js
// resets inbound streams of handlers registered without it (after multistream agreed).
export function handleEcho (node, onStream) {
  node.handle(ECHO, (stream, connection) => {
    if (onStream != null) onStream(stream, connection)
    stream.addEventListener('message', (evt) => {
      try {
        const bufs = evt.data instanceof Uint8Array ? [evt.data] : [...evt.data]
        for (const b of bufs) stream.send(b)
      } catch (err) {
        stream.abort(err)
      }
    })
    // yamux 8.0.1 signals a Data+FIN frame's end before its payload: defer to a microtask.
    const finish = () => queueMicrotask(() => { stream.close().catch((err) => stream.abort(err)) })
    if (stream.readableEnded) finish()
    else stream.addEventListener('end', finish, { once: true })
  }, { runOnLimitedConnection: true })
}

// Runs main(), turning a UsageError into exit 2 with the usage text.
export function runMain (main, usage) {
  main(process.argv.slice(2)).catch((err) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${usage}\n`)
      process.exit(2)
    }
    diag('fatal:', errText(err))
    process.exit(1)
  })
}
