import {
  ClientClosedError,
  InvalidArgumentError,
  NodeUnavailableError,
  SettingsMismatchError,
  type ShardlockError,
} from './errors.js';
import { contactInfoOf, ownIncarnation, recordedTrustIn } from './contact-info.js';
import type { Emit } from './events.js';
import type { Hello } from './hello.js';
import { Joining } from './joining.js';
import { ContactPending, Membership, Stalled } from './membership/membership.js';
import { isEmptyRecord, readRecords, type ReadRecord } from './membership/records.js';
import type { Decision, ReplicaSet } from './membership/types.js';
import { emitDecision } from './decision-events.js';
import { RedisNode, type NodeListener } from './node.js';
import type { ResolvedNodeSpec } from './node-spec.js';
import {
  detectionLagOf,
  quarantineOf,
  redisOptionsOf,
  type ResolvedClientOptions,
} from './options.js';
import { syncFences } from './fence-sync.js';
import {
  checkMembers,
  checkSettings,
  memberField,
  memberValue,
  RAISED_FIELD,
  settingsText,
} from './record.js';
import { writeRecord, type Met, type RecordContext } from './record-write.js';
import { Removals } from './removals.js';
import type { Runtime } from './runtime.js';

/**
 * The nodes of a client and what acts on membership's decisions: connections, timers, the
 * cluster record and fence syncs. Membership decides; the pool does (docs/safety.md).
 */
export class NodePool {
  readonly #options: ResolvedClientOptions;
  readonly #rt: Runtime;
  readonly #emit: Emit;
  readonly #nodes = new Map<string, RedisNode>();
  readonly #membership: Membership<RedisNode>;
  readonly #records = new Map<string, ReadRecord>();
  /** First contacts before the start, decided on together; when each was met (this clock). */
  readonly #hellos = new Map<RedisNode, { hello: Hello; at: number }>();
  /** Ids no record listed at the start of a cluster that has records: this client adds them. */
  readonly #addedNow = new Set<string>();
  /** When this client applied each add it made or honoured from the records (its clock). */
  readonly #addedAt = new Map<string, number>();
  readonly #removals = new Removals();
  readonly #joining = new Map<RedisNode, Joining>();
  /** Removed nodes whose connection stays open until what they are owed is sent; close() ends them. */
  readonly #retiring = new Set<RedisNode>();
  readonly #reserved = new Set<string>();
  /**
   * Membership changes asked for before the start, settled or not: nothing is routed until
   * they are applied, or a start delayed by a hung node would route on the list of before
   * the change long after every other client applied it (docs/safety.md, late clients).
   */
  readonly #early = new Set<Promise<void>>();
  /** The ids those changes concern: the start does not hold their records against the list. */
  readonly #earlyIds = new Set<string>();
  readonly #listener: NodeListener;
  /** The start, or close() before it: nothing waits for a start that will never come. */
  readonly #ready: Promise<void>;
  #closedBeforeStart: () => void = () => undefined;
  readonly #settings: string;
  /** How long a failed fence sync waits before it is tried again, ms. */
  readonly #syncRetry: number;
  #started = false;
  /** Whether a record has shown this client's settings (read, or stored by its own write). */
  #compared = false;
  #fatal: ShardlockError | undefined;
  #wake: unknown;
  #heart: unknown;
  #closed = false;

  /**
   * Connects to every node; first contacts are read in the background, and decided on
   * together once every node has answered or failed ({@link NodePool.ready}).
   * @param onLost - told when a node is marked down, for the locks held on it
   * @param onBatch - told of every batch call, for metrics and the `batch` channel
   */
  constructor(
    options: ResolvedClientOptions,
    runtime: Runtime,
    emit: Emit,
    onLost: (node: RedisNode) => void,
    onBatch: (node: RedisNode, size: number, roundTrip: number, failed: boolean) => void,
  ) {
    this.#options = options;
    this.#rt = runtime;
    this.#emit = emit;
    this.#settings = settingsText(options);
    this.#syncRetry = Math.min(options.healthCheckInterval, options.handoffWindow);
    this.#listener = {
      contact: (node, hello) => this.#contact(node, hello),
      batch: onBatch,
      refused: (node, error) => this.#refused(node, error),
      lost: (node, reason) => {
        if (this.#closed) return;
        const joining = this.#joining.get(node);
        if (joining !== undefined) {
          joining.failed(unavailable(node, 'went down while it was being added'));
          return;
        }
        this.#act(this.#membership.lost(node.id, this.#rt.now()));
        emit('nodeDown', { nodeId: node.id, generation: node.generation, reason });
        onLost(node);
      },
      error: (node, error) => {
        if (!this.#closed) emit('nodeError', { nodeId: node.id, error });
      },
    };
    const nodes = options.nodes.map((spec) => {
      const node = this.#connect(spec);
      this.#nodes.set(spec.id, node);
      return { id: spec.id, weight: spec.weight, handle: node };
    });
    this.#membership = new Membership(
      {
        quarantine: quarantineOf(options),
        handoffWindow: options.handoffWindow,
        detectionLag: detectionLagOf(options),
        restartQuarantine: options.restartQuarantine,
        syncRetry: this.#syncRetry,
        beatEvery: options.healthCheckInterval,
        replicas: options.replicas,
      },
      options.vnodes,
      nodes,
    );
    this.#ready = Promise.race([
      Promise.all(nodes.map((n) => n.handle.settled)).then(() => this.#startWhenSure()),
      new Promise<void>((resolve) => (this.#closedBeforeStart = resolve)),
    ]);
    this.#beat();
  }

  /** A membership change asked for before the start is not applied yet: routes must wait. */
  get holdingRoutes(): boolean {
    return this.#early.size > 0;
  }

  /** Membership: routes, ring, epoch. */
  get membership(): Membership<RedisNode> {
    return this.#membership;
  }

  /** Every node with a connection, leaving ones included. */
  get nodes(): ReadonlyMap<string, RedisNode> {
    return this.#nodes;
  }

  /**
   * Resolves once every node's first contact has settled and been decided on.
   * @throws the configuration error that made the client refuse to start, or
   *   {@link ClientClosedError} once it is closed
   */
  async ready(): Promise<void> {
    await this.#ready;
    this.check();
  }

  /** Throws the error that made the client refuse to start, or that it was closed. */
  check(): void {
    if (this.#fatal !== undefined) throw this.#fatal;
    if (this.#closed) throw new ClientClosedError('the client is closed');
  }

  /**
   * The nodes that must all grant `key` now. Waits for the first contact of a node on the
   * route (nothing is routed to a server whose incarnation is unknown), and takes a stall of
   * this process into account first.
   */
  routeAfterContact(key: string): Promise<readonly RedisNode[]> {
    return this.#afterContact((now) => this.#membership.route(key, now));
  }

  /** Quorum mode: `key`'s replica sets, waiting as {@link routeAfterContact} does. */
  replicaSetsAfterContact(key: string): Promise<readonly ReplicaSet<RedisNode>[]> {
    return this.#afterContact((now) => this.#membership.replicaSets(key, now));
  }

  async #afterContact<R>(decide: (now: number) => R): Promise<R> {
    for (;;) {
      // Also after each wait below: a change asked while this call waited for the first
      // contacts comes before its route (found in the simulator; docs/safety.md, late clients).
      while (this.#early.size > 0) await Promise.all(this.#early);
      try {
        return decide(this.#rt.now());
      } catch (error) {
        if (error instanceof Stalled) {
          this.#act(this.#membership.beat(this.#rt.now()));
          continue;
        }
        if (!(error instanceof ContactPending)) throw error;
        await this.#ready;
        this.check();
        const node = this.#nodes.get(error.nodeId);
        if (node === undefined || node.closed) throw unavailable(undefined, 'left', error.nodeId);
        // Settled but not known: its first contact failed and it is down (route says so next).
        if (node.isSettled && this.#started) {
          await new Promise<void>((resolve) => this.#rt.later(resolve));
        } else await node.settled;
      }
    }
  }

  #connect(spec: ResolvedNodeSpec): RedisNode {
    const options = this.#options;
    const conn = this.#rt.connect(spec, {
      commandTimeout: options.commandTimeout,
      reconnectEvery: options.healthCheckInterval,
      redis: redisOptionsOf(options, spec),
    });
    const prefix = options.keyPrefix;
    return new RedisNode(
      spec,
      conn,
      this.#rt,
      {
        healthInterval: options.healthCheckInterval,
        healthThreshold: options.failureThreshold,
        fenceKey: `${prefix}fence`,
        recordKey: `${prefix}cluster`,
        probeKey: `${prefix}probe`,
      },
      this.#listener,
    );
  }

  #contact(node: RedisNode, hello: Hello): void {
    if (this.#closed) return;
    const joining = this.#joining.get(node);
    if (joining !== undefined) {
      joining.met(hello);
      return;
    }
    this.#keepRecord(node.id, hello, this.#rt.now());
    this.#emit('nodeUp', { nodeId: node.id, generation: node.generation });
    // Before the start, contacts wait to be decided on with every node's record at hand.
    if (!this.#started) {
      this.#hellos.set(node, { hello, at: this.#rt.now() });
      this.#membership.reachable(node.id);
      this.#arm();
      return;
    }
    // A client that refused to start writes nothing and decides nothing.
    if (this.#fatal !== undefined) return;
    try {
      this.#checkRecord(node.id, hello);
    } catch (error) {
      this.#refused(node, error as ShardlockError);
      return;
    }
    // After the start this client has listed every member itself (its record writes): a
    // node it meets again may have served, whatever the records it read at the start said.
    this.#meet(node, hello, true);
    const owed = this.#removals.owed(hello.record, hello.nowUs, this.#rt.now());
    if (owed.length > 0) this.#writeRecord(node, undefined, owed);
  }

  /** @param metAt - when the hello was read: a start held back by a hung node decides late */
  #meet(node: RedisNode, hello: Hello, listed: boolean, metAt = this.#rt.now()): void {
    const now = this.#rt.now();
    this.#act(this.#membership.contact(node.id, contactInfoOf(hello, listed, metAt, now), now));
  }

  #refused(node: RedisNode, error: ShardlockError): void {
    if (this.#closed) return;
    const joining = this.#joining.get(node);
    if (joining !== undefined) {
      joining.failed(error);
      return;
    }
    this.#emit('nodeError', { nodeId: node.id, error });
    // Before the start a misconfigured node stops the client; later its keys are refused
    // (never failed over: other clients may be using it). A client that started before it
    // could read any record (every node out of reach) decides on the first record it reads
    // as its start would have: other settings stop it, not just the node (found in the
    // simulator: such a client wrote its settings into a node it added).
    const unchecked = error instanceof SettingsMismatchError && !this.#compared;
    if (!this.#started || unchecked) this.#fatal ??= error;
    else this.#act(this.#membership.refuse(node.id, error));
  }

  #checkRecord(nodeId: string, hello: Hello): void {
    const { record } = hello;
    if (record.settings !== undefined) checkSettings(record.settings, this.#options, nodeId);
    checkMembers(record, nodeId, this.#membership.weights);
    if (record.settings !== undefined) this.#compared = true;
  }

  /** Whether some record lists `id`; true also when a member's record is unknown. */
  #listed(id: string): boolean {
    for (const other of this.#membership.ids()) if (!this.#records.has(other)) return true;
    for (const { record } of this.#records.values()) if (record.members.has(id)) return true;
    return false;
  }

  /**
   * Starts once the records read are worth deciding on (docs/safety.md, late clients): while
   * some node's record is unread and those read say this client's node list is wrong, or
   * none was found, the reachable ones are read again for a while (`#unsure`; one record can
   * lag behind the cluster: found in the simulator, `pnpm sim --seed 815` and `--seed 753`).
   * A listed node whose own record names no incarnation is read again, and a start that read
   * no record writes its settings first (`#claimSettings`).
   */
  async #startWhenSure(): Promise<void> {
    const started = this.#rt.now();
    while (!this.#closed && this.#unsure(this.#rt.now() - started)) {
      await new Promise<void>((resolve) =>
        this.#rt.setTimeout(resolve, this.#options.healthCheckInterval),
      );
      await this.#reread([...this.#nodes.values()].filter((n) => n.up));
    }
    // Listed by another record, yet its own names no incarnation: read before the client
    // that listed it wrote one there (it writes the incarnation first). Read again, it says
    // whether the server had served, and a brand-new one is not quarantined (found in the
    // simulator, `pnpm sim --seed 813`: two clients started within milliseconds).
    const unrecorded = [...this.#hellos]
      .filter(([node, { hello }]) => node.up && ownIncarnation(hello) === undefined)
      .map(([node]) => node)
      .filter((node) => [...this.#records.values()].some((r) => r.record.members.has(node.id)));
    if (unrecorded.length > 0 && !this.#closed) await this.#reread(unrecorded);
    if (this.#readNoRecord()) await this.#claimSettings();
    this.#start();
  }

  /** Whether every record read so far is empty: a brand-new cluster, as far as this client knows. */
  #readNoRecord(): boolean {
    for (const { record } of this.#records.values()) if (!isEmptyRecord(record)) return false;
    return true;
  }

  /**
   * A start that read no record writes its settings where none are yet, before it routes
   * anything: a client with other settings that started at the same moment may have
   * written its own first, and one of them must then refuse before it grants a key. Only
   * the settings: the members are listed after the incarnations, as ever.
   */
  async #claimSettings(): Promise<void> {
    const none = new Set<string>();
    const context = { ...this.#recordContext(), weights: new Map(), addedNow: none, recent: none };
    await Promise.allSettled(
      [...this.#hellos.keys()]
        .filter((node) => node.up)
        .map(async (node) => {
          try {
            await writeRecord(node.connection, node.id, context, undefined);
          } catch (error) {
            if (error instanceof SettingsMismatchError) this.#refused(node, error);
          }
        }),
    );
  }

  /** Keeps the record a hello carried, read at `at` (this client's clock). */
  #keepRecord(id: string, hello: Hello, at: number): void {
    this.#records.set(id, { record: hello.record, nowUs: hello.nowUs, readAt: at });
  }

  /** Reads the hellos of `nodes` again, for a start that must decide on fresher records. */
  async #reread(nodes: readonly RedisNode[]): Promise<void> {
    await Promise.allSettled(
      nodes.map(async (n) => {
        const hello = await n.hello();
        const at = this.#rt.now();
        this.#keepRecord(n.id, hello, at);
        if (this.#hellos.has(n)) this.#hellos.set(n, { hello, at });
      }),
    );
  }

  /**
   * Whether the records read so far, `waited` ms into the start, may be behind the cluster
   * while some node's record is unread: they say this client's node list is wrong (for up
   * to a handoff window), or none was found at all (for as long as other clients take to
   * meet a node restarted empty and record it there).
   */
  #unsure(waited: number): boolean {
    if (this.#records.size === this.#nodes.size) return false;
    const { handoffWindow, healthCheckInterval, commandTimeout } = this.#options;
    const reading = readRecords(
      [...this.#records.values()],
      [...this.#membership.weights.keys()],
      handoffWindow,
      this.#rt.now(),
      this.#earlyIds,
    );
    if (reading.stale !== undefined) return waited < handoffWindow;
    return reading.fresh && waited < 2 * healthCheckInterval + commandTimeout;
  }

  /** Decides on every first contact at once, with every record that could be read. */
  #start(): void {
    if (this.#closed) return;
    const contacted = [...this.#nodes.values()].filter((node) => node.up);
    // Every record read, also one whose node went down since (found in the simulator: a
    // client whose only record came from such a node started as if it had read none).
    for (const [node, { hello }] of this.#hellos) {
      try {
        this.#checkRecord(node.id, hello);
      } catch (error) {
        this.#fatal ??= error as SettingsMismatchError;
      }
    }
    this.#started = true;
    if (this.#fatal !== undefined) return;
    const ids = [...this.#membership.weights.keys()];
    const reading = readRecords(
      [...this.#records.values()],
      ids,
      this.#options.handoffWindow,
      this.#rt.now(),
      this.#earlyIds,
    );
    if (reading.stale !== undefined) {
      this.#fatal = new SettingsMismatchError(
        `${reading.stale}: start a client with the node list the cluster uses now (a change in progress is recorded once one client has applied it)`,
        'nodes',
      );
      return;
    }
    const allRead = contacted.length === this.#nodes.size;
    for (const node of contacted) {
      const { hello, at } = this.#hellos.get(node)!;
      this.#meet(node, hello, reading.listed.has(node.id) || !allRead, at);
    }
    this.#hellos.clear();
    const added = new Map(reading.added);
    const now = this.#rt.now();
    // A recent add the records show: as old as they say.
    for (const [id, left] of reading.added) {
      this.#addedAt.set(id, now - (this.#options.handoffWindow - left));
    }
    for (const id of reading.unlisted) {
      added.set(id, this.#options.handoffWindow);
      this.#addedNow.add(id);
    }
    this.#act(this.#membership.recentChanges(added, reading.removed, now));
  }

  #act(decisions: readonly Decision[]): void {
    for (const decision of decisions) {
      switch (decision.type) {
        case 'syncFences':
          void this.#syncFences(decision.epoch, decision.from, decision.to);
          break;
        case 'syncMember':
          void this.#syncMember(decision);
          break;
        case 'retire': {
          const node = this.#nodes.get(decision.nodeId);
          this.#nodes.delete(decision.nodeId);
          if (node !== undefined) {
            this.#retiring.add(node);
            void node
              .retire(this.#options.commandTimeout)
              .finally(() => this.#retiring.delete(node));
          }
          break;
        }
        case 'recordIncarnation': {
          const node = this.#nodes.get(decision.nodeId);
          if (node !== undefined && this.#started && this.#fatal === undefined) {
            this.#writeRecord(node, decision);
          }
          break;
        }
        default:
          emitDecision(this.#emit, decision, this.#rt.now());
      }
    }
    this.#arm();
  }

  /** The heartbeat: a late one tells membership this process stalled. */
  #beat(): void {
    if (this.#closed) return;
    this.#heart = this.#rt.setTimeout(() => this.#beat(), this.#options.healthCheckInterval);
    this.#act(this.#membership.beat(this.#rt.now()));
  }

  #arm(): void {
    this.#rt.clearTimeout(this.#wake);
    if (this.#closed) return;
    const at = this.#membership.nextWake();
    if (at === Number.POSITIVE_INFINITY) return;
    this.#wake = this.#rt.setTimeout(
      () => this.#act(this.#membership.advance(this.#rt.now())),
      Math.max(0, at - this.#rt.now()),
    );
  }

  /** Quorum mode: raises a member's counter to the others' before it votes; retried until done. */
  async #syncMember(sync: Extract<Decision, { type: 'syncMember' }>): Promise<void> {
    const { nodeId: id, generation, from, runId } = sync;
    for (;;) {
      if (this.#closed || !this.#nodes.has(id)) return;
      try {
        await syncFences(
          from.filter((other) => this.#nodes.has(other)),
          [id],
          (other) => this.#usable(other),
        );
        this.#membership.memberSynced(id, generation);
        // A client that meets this incarnation later need not raise it again. Written for
        // the run met: had the server restarted since, the value names an older run.
        const node = this.#nodes.get(id);
        if (node !== undefined) this.#writeRecord(node, undefined, [RAISED_FIELD, runId, 's']);
        return;
      } catch {
        await new Promise<void>((resolve) => this.#rt.setTimeout(resolve, this.#syncRetry));
      }
    }
  }

  async #syncFences(epoch: number, from: readonly string[], to: readonly string[]): Promise<void> {
    try {
      await syncFences(from, to, (id) => this.#usable(id));
      if (!this.#closed) this.#act(this.#membership.synced(epoch));
    } catch (error) {
      if (this.#closed) return;
      this.#emit('nodeError', { nodeId: '', error: error as Error });
      this.#membership.syncFailed(epoch, this.#rt.now());
      this.#arm();
    }
  }

  #usable(id: string): RedisNode {
    const node = this.#nodes.get(id);
    if (!node?.up) throw unavailable(node, 'is down', id);
    return node;
  }

  /**
   * Writes what this client knows into a node's record, in the background. Other settings
   * found there refuse as a hello's would: a client that started as a brand-new cluster's
   * first learns only here that another client's settings reached the record first.
   */
  #writeRecord(node: RedisNode, met: Met | undefined, extra: readonly string[] = []): void {
    void this.#record(node, met, extra).catch((error: unknown) => {
      if (this.#closed) return;
      if (error instanceof SettingsMismatchError) this.#refused(node, error);
      else this.#emit('nodeError', { nodeId: node.id, error: error as Error });
    });
  }

  /** What a record write needs to know of this client now. */
  #recordContext(): RecordContext {
    return {
      recordKey: `${this.#options.keyPrefix}cluster`,
      settingsText: this.#settings,
      settings: this.#options,
      weights: this.#membership.weights,
      addedNow: this.#addedNow,
      recent: this.#recentlyAdded(),
    };
  }

  async #record(node: RedisNode, met: Met | undefined, extra: readonly string[]): Promise<void> {
    const later = await writeRecord(node.connection, node.id, this.#recordContext(), met, extra);
    this.#compared = true;
    // Another client met this incarnation first and trusts it later: so must this one.
    if (later !== undefined) {
      this.#act(this.#membership.trustNoEarlierThan(node.id, this.#rt.now() + later));
    }
  }

  #recentlyAdded(): ReadonlySet<string> {
    const since = this.#rt.now() - this.#options.handoffWindow;
    const ids = new Set<string>();
    for (const [id, at] of this.#addedAt) {
      if (at > since) ids.add(id);
      else this.#addedAt.delete(id);
    }
    return ids;
  }

  /**
   * Connects a node and adds it once its server is met and trusted: a young server that may
   * have served before is waited out. Keys that move to it keep winning on their old owners
   * for the handoff window.
   * @throws {@link InvalidArgumentError} when its id or address is taken (also by a pending add)
   * @throws {@link NodeUnavailableError} when it does not come up within `connectTimeout` or
   *   goes down before it is trusted
   */
  addNode(spec: ResolvedNodeSpec, connectTimeout: number): Promise<void> {
    return this.#beforeRoutes(spec.id, this.#add(spec, connectTimeout));
  }

  async #add(spec: ResolvedNodeSpec, connectTimeout: number): Promise<void> {
    this.check();
    for (const node of this.#nodes.values()) {
      if (node.id === spec.id || node.spec.address === spec.address) {
        throw new InvalidArgumentError(
          `node ${JSON.stringify(spec.id)} (${spec.address}) is already a member`,
          { nodeId: spec.id },
        );
      }
    }
    if (this.#reserved.has(spec.id) || this.#reserved.has(spec.address)) {
      throw new InvalidArgumentError(
        `node ${JSON.stringify(spec.id)} (${spec.address}) is being added already`,
        { nodeId: spec.id },
      );
    }
    this.#reserved.add(spec.id).add(spec.address);
    this.#membership.addStarted(spec.id, spec.weight);
    const joining = new Joining(this.#rt);
    let node: RedisNode | undefined;
    try {
      await this.ready();
      const connected = this.#connect(spec);
      node = connected;
      this.#joining.set(connected, joining);
      await joining.contact(connectTimeout, () =>
        unavailable(connected, `did not come up within ${connectTimeout} ms`),
      );
      // Fresh records: other clients may have listed it since this one started. Read before
      // the node's own, as other clients write in the opposite order (incarnation, then
      // listing): a listing seen here means its incarnation is on the node by now.
      await Promise.allSettled(
        [...this.#nodes.values()]
          .filter((n) => n.up)
          .map(async (n) => {
            this.#keepRecord(n.id, await n.hello(), this.#rt.now());
          }),
      );
      const hello = await connected.hello();
      this.#checkRecord(spec.id, hello);
      const served =
        ownIncarnation(hello)?.served ??
        (hello.record.members.has(spec.id) || this.#listed(spec.id));
      const q = quarantineOf(this.#options);
      let wait = recordedTrustIn(hello) ?? 0;
      if (this.#options.restartQuarantine && served && hello.uptimeMs < q) {
        wait = Math.max(wait, q - hello.uptimeMs);
      }
      if (wait > 0) await joining.wait(wait);
      joining.throwIfFailed();
      this.check();
      // The node's own incarnation first, then its listing on the others: a client adding
      // the same node meanwhile finds either the incarnation (and whether it served), or no
      // listing at all (found in the simulator: one that saw the listing but not yet the
      // incarnation waited out a restart quarantine and applied the add too late).
      const listing = [memberField(spec.id), memberValue(spec.weight, 'serving', '@now'), 's'];
      await this.#record(node, { runId: hello.runId, trustIn: 0, served }, listing);
      await Promise.allSettled(
        [...this.#nodes.values()]
          .filter((n) => n.up)
          .map((n) => this.#record(n, undefined, listing)),
      );
      joining.throwIfFailed();
      this.check();
      const now = this.#rt.now();
      this.#joining.delete(node);
      this.#nodes.set(spec.id, node);
      this.#addedAt.set(spec.id, now);
      this.#removals.rejoined(spec.id);
      this.#act(this.#membership.join(spec.id, spec.weight, node, hello.runId, now));
      this.#emit('nodeUp', { nodeId: spec.id, generation: node.generation });
    } catch (error) {
      this.#membership.addFailed(spec.id, this.#rt.now());
      if (node !== undefined) {
        this.#joining.delete(node);
        await node.close(this.#options.commandTimeout);
      }
      throw error;
    } finally {
      this.#reserved.delete(spec.id);
      this.#reserved.delete(spec.address);
    }
  }

  /**
   * Takes a node out: its removal is recorded on the nodes (for clients that start later),
   * then its keys move at once, and it stays an old owner for the handoff window.
   */
  removeNode(id: string): Promise<void> {
    return this.#beforeRoutes(id, this.#remove(id));
  }

  /** A change asked for before the start holds routes back until it has settled. */
  #beforeRoutes(id: string, change: Promise<void>): Promise<void> {
    if (this.#started) return change;
    this.#earlyIds.add(id);
    const settled = change.then(
      () => undefined,
      () => undefined,
    );
    this.#early.add(settled);
    void settled.then(() => this.#early.delete(settled));
    return change;
  }

  async #remove(id: string): Promise<void> {
    // As an add does: the start decides with the list the client was created with (found
    // in the simulator: a removal applied before it made the start take the removed node,
    // still serving in every record, for one missing from the client's list).
    await this.ready();
    const node = this.#nodes.get(id);
    const spec = node?.spec;
    const tombstone = [memberField(id), memberValue(spec?.weight ?? 1, 'removed', '@now'), 's'];
    await Promise.allSettled(
      [...this.#nodes.values()]
        .filter((n) => n.up)
        .map((n) => this.#record(n, undefined, tombstone)),
    );
    this.#removals.removed(id, this.#rt.now());
    this.#act(this.#membership.leave(id, this.#rt.now()));
  }

  /** Closes every connection; nothing is sent afterwards. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closedBeforeStart();
    this.#rt.clearTimeout(this.#wake);
    this.#rt.clearTimeout(this.#heart);
    const nodes = [...this.#nodes.values(), ...this.#joining.keys(), ...this.#retiring];
    await Promise.all(nodes.map((node) => node.close(this.#options.commandTimeout)));
  }
}

function unavailable(
  node: RedisNode | undefined,
  what: string,
  id = node?.id ?? '',
): NodeUnavailableError {
  const address = node === undefined ? '' : ` (${node.spec.address})`;
  return new NodeUnavailableError(`node ${JSON.stringify(id)}${address} ${what}`, { nodeId: id });
}
