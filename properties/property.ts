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

export interface Property {
  readonly name: PropertyName;
  /** One line: what it says. */
  readonly summary: string;
  check(sys: System, pre: State, e: Event, obs: Observation, post: State): Violation | null;
  /**
   * True when no execution of this configuration can violate the property
   * (there is nothing it protects, e.g. no guest memory): the exhaustive
   * engine then does not search for a violation of it. Absent = never inert.
   */
  inert?(cfg: ModelConfig): boolean;
}
