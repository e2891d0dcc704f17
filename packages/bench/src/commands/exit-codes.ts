/**
 * Exit codes of the `shardlock` command (README, "Operating a cluster"). Scripts may rely on
 * them: they do not change once released.
 */
export const EXIT = {
  /** Done. */
  OK: 0,
  /**
   * A node could not be reached or refused a command: the output has what the others
   * answered (for `bench`: the run failed).
   */
  NODE_FAILED: 1,
  /** Bad usage or configuration (also settings that disagree with the cluster's record). */
  USAGE: 2,
  /** `unlock`: nothing was deleted (not held, another holder's fingerprint, or declined). */
  NOTHING_DELETED: 3,
  /** `nodes`: a problem was flagged on a node. */
  PROBLEMS: 4,
  /** Interrupted (Ctrl-C). */
  INTERRUPTED: 130,
} as const;
