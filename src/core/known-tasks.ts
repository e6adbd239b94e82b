/**
 * Known tasks: the task names some worker has registered on this database (the store keeps them
 * for good, see `Store.listTasks`), plus those this process has defined. A job of any other task
 * waits until a worker for it starts, which is usually a typo in the name or a worker never
 * started; enqueue still succeeds, and says so with a warning. Pure: what a warning says.
 */

/** A task name as the store remembers it: when a worker first and last registered it. */
export interface TaskRecord {
  name: string;
  firstSeenAt: string;
  lastSeenAt: string;
}

/** Something worth telling whoever enqueued a job, which was enqueued all the same. */
export interface EnqueueWarning {
  code: "TASK_NOT_REGISTERED";
  message: string;
  task: string;
}

/** How many known names a warning lists, closest to the unknown one first. */
const LISTED = 5;

/** Overseer's own tasks (every worker runs them), left out of a warning's list as noise. */
const BUILT_IN = "overseer.";

export function taskNotRegistered(task: string, known: Iterable<string>): EnqueueWarning {
  const names = closestFirst(
    task,
    [...known].filter((n) => !n.startsWith(BUILT_IN)),
  );
  const listed = names.slice(0, LISTED).join(", ");
  const more = names.length > LISTED ? `, and ${names.length - LISTED} more` : "";
  const tail = names.length === 0 ? "no worker has registered any task yet" : `known tasks: ${listed}${more}`;
  return {
    code: "TASK_NOT_REGISTERED",
    message: `no worker has registered task '${task}'; ${tail}`,
    task,
  };
}

/** Names by edit distance to `task` (a typo's intended name first), then by name. */
export function closestFirst(task: string, names: Iterable<string>): string[] {
  return [...new Set(names)]
    .map((name) => ({ name, d: editDistance(task, name) }))
    .sort((a, b) => a.d - b.d || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((x) => x.name);
}

/** Levenshtein distance; task names are short (at most a few hundred characters). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, substitute));
    }
    prev = row;
  }
  return prev[b.length] as number;
}
