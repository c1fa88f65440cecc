// Types of the native Rocket.Chat core for Node. The event types are generated (events.d.ts);
// the rest mirrors bindings/node/src/lib.rs and the core's serializable types.

import type { RocketChatEvent } from './events'

export * from './events'

/** Options of `new RocketChatCore(options)`. */
export interface CoreInit {
  /** Runtime worker threads (default 2; the work is I/O). 1..64. */
  workerThreads?: number
  /**
   * Events the core holds for JavaScript (default 10 000). When full, message events make
   * their producers wait (never lost); other events are dropped and reported by an
   * `overflow` event.
   */
  eventCapacity?: number
}

/** Options of `applyConfig`. */
export interface ApplyOptions {
  /**
   * Let `ROCKETCHAT_URL`, `ROCKETCHAT_AUTH_TOKEN`, `ROCKETCHAT_USER_ID`, `ROCKETCHAT_USERNAME`
   * and `ROCKETCHAT_PASSWORD` fill the default account. Default `false`.
   */
  useProcessEnv?: boolean
}

/** What `applyConfig` did (account ids in each list). */
export interface ReloadReport {
  /** Accounts started that were not running. */
  started: string[]
  /** Accounts restarted because their configuration changed. */
  restarted: string[]
  /** Accounts stopped (removed or disabled). */
  stopped: string[]
  /** Accounts left running untouched. */
  unchanged: string[]
  /** Configuration warnings, one line each (unknown keys…). */
  warnings: string[]
}

/** Where an account's connection is. */
export type ConnectionState =
  | 'starting'
  | 'connecting'
  | 'connected'
  | 'ready'
  | 'disconnected'
  | 'authFailed'
  | 'stopped'

/** A snapshot of one account. */
export interface AccountStatus {
  accountId: string
  enabled: boolean
  baseUrl: string
  state: ConnectionState
  /** The bot's user id, once known. */
  userId?: string
  /** The bot's username, once known. */
  username?: string
  /** The last connection or auth problem. */
  lastError?: string
  /** Epoch ms of the last inbound message delivered. */
  lastInboundAt?: number
  /** Epoch ms of the last message sent. */
  lastOutboundAt?: number
  /** Times the realtime connection was re-established. */
  reconnects: number
  /** Messages delivered (live and catch-up). */
  delivered: number
  /** Of those, fetched by catch-up after a reconnect. */
  caughtUp: number
  /** Edits delivered. */
  edits: number
  /** Messages sent. */
  sent: number
  /** Dropped messages by reason (`notAllowed`, `noMention`, …). */
  dropped: Record<string, number>
}

/** A message as Rocket.Chat's REST API returns it (only the common fields are typed). */
export interface RocketChatMessage {
  _id: string
  rid: string
  msg: string
  tmid?: string
  ts?: string | { $date: number }
  u?: { _id: string; username: string; name?: string }
  [key: string]: unknown
}

/** A run-time change to an account's allowlists (every key optional). */
export interface AllowlistUpdate {
  /** Senders to admit in addition to the configured lists (ids, `@username`, usernames). */
  approve?: string[]
  /** Approvals to withdraw. */
  revoke?: string[]
  /** Replace the DM allowlist (`allowFrom`). */
  allowFrom?: string[]
  /** Replace the group allowlist (`groupAllowFrom`). */
  groupAllowFrom?: string[]
}

/** A message the bot posted. A long text becomes several, in order. */
export interface SentMessage {
  id: string
  roomId: string
  threadId?: string
  /** The text the room shows (the caption for a file). */
  text: string
  fileName?: string
}

/** The `code` of every error the core rejects or throws with. */
export type RocketChatErrorCode =
  | 'CONFIG'
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'CLOSED'
  | 'NETWORK'
  | 'TIMEOUT'
  | 'AUTH'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'SERVER'
  | 'API'
  | 'PROTOCOL'
  | 'TOO_LARGE'
  | 'TLS'
  | 'INTERNAL'

/** An error from the core. Messages never contain tokens or passwords. */
export interface RocketChatError extends Error {
  code: RocketChatErrorCode
  /** CONFIG: every problem, each naming its key path (`accounts.b.baseUrl`). */
  problems?: Array<{ path: string; message: string }>
  /** HTTP status, when the server answered. */
  status?: number
  /** RATE_LIMITED: when the server accepts the call again. */
  retryAfterMs?: number
  /** API: Rocket.Chat's `errorType`. */
  errorType?: string
}

/** What `onEvent` returns. */
export declare class EventSubscription {
  private constructor()
  /** Stop this callback and release it. Idempotent; returns whether this call removed it. */
  unsubscribe(): boolean
  [Symbol.dispose](): void
}

/**
 * A Rocket.Chat channel core: accounts, their connections and one event stream. Call
 * `close()` (or use `await using`) when done; the GC is not what stops it.
 */
export declare class RocketChatCore {
  /** Start a core. Events are kept from now on, even before `onEvent`. Throws CONFIG on bad options. */
  constructor(options?: CoreInit)
  /**
   * Apply a whole `channels.rocketchat` object: start new accounts, restart changed ones,
   * stop removed or disabled ones. Rejects with CONFIG (and `problems`) when invalid, changing nothing.
   */
  applyConfig(section: object, options?: ApplyOptions): Promise<ReloadReport>
  /** Stop one account; false when none ran with that id. */
  stopAccount(accountId: string): Promise<boolean>
  /** Every running account's status. */
  status(): Promise<AccountStatus[]>
  /** One account's status, `null` when no account runs with that id. */
  status(accountId: string): Promise<AccountStatus | null>
  /**
   * Send text to `target` (`channel:ROOM_ID`, `room:ROOM_ID`, `#name`, `@username`,
   * `user:USER_ID` or a bare room id), in a thread when `threadId` is set. Long text is split
   * as configured. Resolves with the messages posted, in order. Rejects NOT_FOUND for an
   * unknown account, INVALID_ARGUMENT for a bad target.
   */
  sendText(accountId: string, target: string, text: string, threadId?: string | null): Promise<SentMessage[]>
  /**
   * Deliver an agent's reply: reply prefix, markdown tables, chunking (textChunkLimit,
   * chunkMode) and the typing indicator are the core's. Resolves with the messages posted.
   */
  sendReply(accountId: string, target: string, text: string, threadId?: string | null): Promise<SentMessage[]>
  /** Upload one file (copied before the call returns), with an optional caption. */
  sendMedia(
    accountId: string,
    target: string,
    threadId: string | null | undefined,
    fileName: string,
    mime: string,
    bytes: Buffer,
    caption?: string | null,
  ): Promise<SentMessage[]>
  /**
   * Change an account's allowlists at run time (pairing approvals, host edits), without a
   * restart; kept across restarts of that account. Rejects NOT_FOUND for an account that is
   * not running, INVALID_ARGUMENT for a malformed update.
   */
  updateAllowlist(accountId: string, update: AllowlistUpdate): Promise<void>
  /**
   * Receive events in batches of JSON strings (`parseEvents` parses them), in order, each
   * once. Return quickly: while the callback is slow the core holds events back. The callback
   * is weak (it does not keep Node alive, so keep your process alive by other means while you
   * wait for events); a promise it returns is not awaited, and an exception it throws becomes
   * an uncaught exception. Throws CLOSED after `close()`.
   */
  onEvent(callback: (events: string[]) => void): EventSubscription
  /** Whether `close()` was called. */
  readonly closed: boolean
  /**
   * Stop every account, deliver the last events, end the event pump and release every
   * callback, so Node can exit. Idempotent; afterwards calls reject with CLOSED.
   */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
  /** JSON Schema of the `channels.rocketchat` object. */
  static configSchema(): Record<string, unknown>
  /** JSON Schema of an event (the envelope with every variant). */
  static eventSchema(): Record<string, unknown>
}

/** Parse a batch handed to an `onEvent` callback. */
export declare function parseEvents(batch: string[]): RocketChatEvent[]

/** The napi platform triple of this process (`linux-x64-gnu`, `darwin-arm64`, …). */
export declare function platformTriple(): string
