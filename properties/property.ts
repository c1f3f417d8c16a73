/**
 * A property is checked on every transition (pre-state, event, observation,
 * post-state). It returns null, or a Violation whose text says in plain words
 * what went wrong; the check allocates nothing unless it finds a violation.
 */
import { type Event } from "../model/events.ts";
import { type Observation } from "../model/observation.ts";
import { type PropertyName } from "../model/policy.ts";
import { type State } from "../model/state.ts";
import { type System } from "../model/system.ts";
import { type ModelConfig } from "../model/config.ts";

export type { PropertyName };

export interface Violation {
  readonly property: PropertyName;
  /** What happened, in plain words, without history (the replay adds "since step N"). */
  readonly message: string;
  /** The device, frame and IOVA page involved, when there is one. */
  readonly dev?: number;
  readonly frame?: number;
  readonly iovaPfn?: number;
}

/**
 * What must happen for a property to be put to the test: the transitions on
 * which its check could fail at all (a device access, a frame reclaimed, ...).
 * A property whose antecedent is never reached in a run holds vacuously, and
 * the checker says so (checker/coverage.ts, docs/coverage.md).
 */
export interface Antecedent {
  /** One line: what reaching it means, e.g. "a device access that reached memory". */
  readonly summary: string;
  /** The ways it is reached (e.g. one per translation source); any of them counts. */
  readonly cases: readonly string[];
  /** Related outcomes counted for the report only, not as reaching it (e.g. an access that faulted). */
  readonly context?: readonly string[];
  /**
   * Only a test once some map call has returned: before that nothing but a
   * boot-time pool was ever granted to a device, so a run in which no map
   * succeeds (a scope with no room for the buffers) leaves it vacuous.
   */
  readonly afterMap?: boolean;
  /**
   * Adds the transition's occurrences of case i to counts[at + i] (context
   * case j to counts[at + cases.length + j]). On the hot path: allocates nothing.
   */
  count(sys: System, pre: State, e: Event, obs: Observation, post: State, counts: Float64Array, at: number): void;
}

export interface Property {
  readonly name: PropertyName;
  /** One line: what it says. */
  readonly summary: string;
  /**
   * Judges what one step did. A step that did not apply (obs.noop: the event
   * was refused or rolled back) leaves post === pre and observes no access;
   * on such a step every check returns null, and the exhaustive engine does
   * not call it there (test/properties/no-op-steps.test.ts holds every
   * property to this).
   */
  check(sys: System, pre: State, e: Event, obs: Observation, post: State): Violation | null;
  /**
   * True when no execution of this configuration can violate the property
   * (there is nothing it protects, e.g. no guest memory): the exhaustive
   * engine then does not search for a violation of it. Absent = never inert.
   */
  inert?(cfg: ModelConfig): boolean;
  /** What puts it to the test; absent = the checker cannot tell whether a "holds" is vacuous. */
  readonly antecedent?: Antecedent;
}
