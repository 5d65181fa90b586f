// Process plumbing shared by the js interop scripts: peer.mjs (and its peer-*.mjs modules) and
// the circuit relay scripts (through relay-common.mjs). Nothing here touches libp2p beyond making
// a key and stopping a node.
import './polyfill.mjs'
import process from 'node:process'
import { generateKeyPair, generateKeyPairFromSeed } from '@libp2p/crypto/keys'

export class UsageError extends Error {}

// One JSON object per stdout line. process.stdout is synchronous for files and pipes on Linux,
// so each line is flushed here.
export function out (obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

let diagPrefix = 'js-interop'
export function setDiagPrefix (p) { diagPrefix = p }
export function diag (...parts) {
  process.stderr.write(`[${diagPrefix} ${new Date().toISOString()}] ${parts.join(' ')}\n`)
}

export function errText (err) {
  if (err == null) return 'unknown error'
  const name = err.name ?? 'Error'
  return err.message ? `${name}: ${err.message}` : String(name)
}

export function intOpt (opts, name, dflt, min = 0) {
  if (opts[name] === undefined) return dflt
  const v = Number(opts[name])
  if (!Number.isSafeInteger(v) || v < min) throw new UsageError(`--${name} must be an integer >= ${min}`)
  return v
}

// An Ed25519 key from a 32-byte seed (`peer.mjs id --seed` prints the resulting PeerId), or a
// fresh random key.
export async function loadKey (seedHex) {
  if (seedHex === undefined) return generateKeyPair('Ed25519')
  if (!/^[0-9a-fA-F]{64}$/.test(seedHex)) throw new UsageError('--seed must be 64 hex digits (32 bytes)')
  return generateKeyPairFromSeed('Ed25519', Uint8Array.from(Buffer.from(seedHex, 'hex')))
}

export function withTimeout (promise, ms, what) {
  let timer
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Exits 0 on SIGTERM/SIGINT after stopping the node (forced after 3 s). Returns the stop
// function, stop(why), for other reasons to stop (peer.mjs listen: stdin closed).
export function stopOnSignals (node) {
  let stopping = false
  const stop = async (why) => {
    if (stopping) return
    stopping = true
    diag(`stopping (${why})`)
    const hard = setTimeout(() => process.exit(0), 3000)
    hard.unref()
    try { await node.stop() } catch (err) { diag('stop failed:', errText(err)) }
    process.exit(0)
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  return stop
}
