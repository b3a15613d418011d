/**
 * What the local Step Functions' history needs to know of a state machine definition: where each
 * state lives (at the top, in a Map's iterations or in a Parallel's branch), which service and
 * action each Task state calls as AWS names them in its history, and how many items a Map state
 * iterates over.
 */
type Json = Record<string, unknown>;

/** Where a state runs: its sequence of states. State names are unique in a whole definition. */
export type Container =
  | { kind: 'top' }
  | { kind: 'map'; map: string }
  | { kind: 'branch'; parallel: string; branch: number };

/** A Task state's integration as AWS records it (`resourceType` is the service, `resource` the action). */
export interface TaskResource {
  resourceType: string;
  resource: string;
}

export interface StateInfo {
  type: string;
  container: Container;
  /** Task states: the integration they call. */
  task?: TaskResource;
  /** Map states: where their items are. */
  items?: { inputPath?: string | null; itemsPath?: string };
  /** Parallel states: how many branches. */
  branches?: number;
}

/**
 * `arn:aws:states:::lambda:invoke` is resource `invoke` of type `lambda`,
 * `arn:aws:states:::dynamodb:getItem` `getItem` of `dynamodb`, `arn:aws:states:::aws-sdk:s3:listBuckets`
 * `listBuckets` of `aws-sdk:s3`; a bare Lambda ARN is `invoke` of `lambda` (AWS records those as
 * LambdaFunction* events; the local stack records every task the same way).
 */
export function taskResource(arn: string): TaskResource {
  const integration = /^arn:aws[\w-]*:states:::(.+):([^:]+)$/.exec(arn);
  if (integration) return { resourceType: integration[1] as string, resource: integration[2] as string };
  return { resourceType: 'lambda', resource: 'invoke' };
}

export class DefinitionIndex {
  private readonly states = new Map<string, StateInfo>();

  constructor(definition: Json) {
    this.collect(definition, { kind: 'top' });
  }

  state(name: string): StateInfo | undefined {
    return this.states.get(name);
  }

  /** Every state that runs inside the Map state `map` (its iterations, at any depth). */
  statesInside(map: string): string[] {
    const inside = (c: Container): boolean => {
      if (c.kind === 'top') return false;
      const parent = c.kind === 'map' ? c.map : c.parallel;
      if (parent === map) return true;
      const container = this.states.get(parent)?.container;
      return container ? inside(container) : false;
    };
    return [...this.states].filter(([, s]) => inside(s.container)).map(([name]) => name);
  }

  private collect(machine: Json, container: Container): void {
    for (const [name, state] of Object.entries(machine.States as Record<string, Json>)) {
      const info: StateInfo = { type: String(state.Type), container };
      if (state.Type === 'Task') info.task = taskResource(String(state.Resource));
      if (state.Type === 'Map') {
        info.items = {
          inputPath: state.InputPath as string | null | undefined,
          itemsPath: state.ItemsPath as string | undefined,
        };
        this.collect((state.ItemProcessor ?? state.Iterator) as Json, { kind: 'map', map: name });
      }
      if (state.Type === 'Parallel') {
        const branches = state.Branches as Json[];
        info.branches = branches.length;
        branches.forEach((branch, i) => {
          this.collect(branch, { kind: 'branch', parallel: name, branch: i });
        });
      }
      this.states.set(name, info);
    }
  }
}

/**
 * The number of items a Map state iterates over, given its raw input: its `InputPath`, then its
 * `ItemsPath` (reference paths: `$`, `$.a.b`, `$['a'][0]`). Undefined when a path is beyond these
 * or does not lead to an array (the engine then fails the state).
 */
export function mapLength(items: NonNullable<StateInfo['items']>, input: unknown): number | undefined {
  const effective = items.inputPath === null ? {} : select(input, items.inputPath ?? '$');
  const list = effective === undefined ? undefined : select(effective, items.itemsPath ?? '$');
  return Array.isArray(list) ? list.length : undefined;
}

function select(value: unknown, path: string): unknown {
  if (!path.startsWith('$')) return undefined;
  const steps = path.slice(1).match(/\.[^.[\]]+|\[\d+\]|\['[^']*'\]|\["[^"]*"\]/g) ?? [];
  if (steps.join('') !== path.slice(1)) return undefined;
  let current = value;
  for (const step of steps) {
    if (current === null || typeof current !== 'object') return undefined;
    const key = step.startsWith('.') ? step.slice(1) : step.slice(1, -1).replace(/^['"]|['"]$/g, '');
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
