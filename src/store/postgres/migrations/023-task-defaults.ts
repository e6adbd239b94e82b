/**
 * 023: each task's defaults as its latest registering worker defines them (JSON), so a node that
 * does not define a task can still enqueue the follow-up its `onDead` asks for when one of its
 * jobs dies of an expired lease (see core/follow-up.ts). Null for tasks registered before.
 */
export const sql = `
ALTER TABLE tasks ADD COLUMN defaults TEXT;
`;
