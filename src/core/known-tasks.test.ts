import { describe, expect, it } from "vitest";
import { closestFirst, editDistance, taskNotRegistered } from "./known-tasks.js";

describe("taskNotRegistered", () => {
  // "a", "d" and "e" are letters of the typo, so nearer to it than "b" and "c".
  it("lists the closest known names first, five at most, without Overseer's own tasks", () => {
    const known = ["a", "send-sms", "overseer.requeue-dead", "send-email", "b", "c", "d", "e"];
    expect(taskNotRegistered("sned-email", known)).toEqual({
      code: "TASK_NOT_REGISTERED",
      task: "sned-email",
      message: "no worker has registered task 'sned-email'; known tasks: send-email, send-sms, a, d, e, and 2 more",
    });
  });

  it("says when no task is known at all", () => {
    expect(taskNotRegistered("x", ["overseer.notify"]).message).toBe(
      "no worker has registered task 'x'; no worker has registered any task yet",
    );
  });
});

describe("closestFirst and editDistance", () => {
  it("orders by edit distance, then by name, without repeats", () => {
    expect(editDistance("sned-email", "send-email")).toBe(2);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("same", "same")).toBe(0);
    expect(closestFirst("report", ["reports", "b", "a", "reports", "report"])).toEqual(["report", "reports", "a", "b"]);
  });
});
