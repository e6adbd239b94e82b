/**
 * /api/v1/lessons (see core/lesson.ts). Recording and deleting need the operator scope; reading
 * and searching, the viewer scope. A recorded lesson's `createdBy` is the token's name.
 */
import type { FastifyInstance } from "fastify";
import type { Overseer } from "../../sdk/overseer.js";
import * as contract from "../contract/lessons.js";
import { decodeCursor, pageLimit, pageOf } from "../cursor.js";
import { typed } from "../type-provider.js";

export function lessonRoutes(overseer: Overseer) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = typed(fastify);
    app.post("/lessons", { config: { scope: "operator" }, schema: contract.recordLesson }, async (request, reply) => {
      const { lesson, created } = await overseer.lessons.record({
        ...request.body,
        createdBy: request.token?.name ?? null,
      });
      reply.code(created ? 201 : 200).header("location", `/api/v1/lessons/${lesson.id}`);
      return { lesson };
    });

    app.get("/lessons", { config: { scope: "viewer" }, schema: contract.listLessons }, async (request) => {
      const { tag, jobId, runId, cursor } = request.query;
      const limit = pageLimit(request.query.limit);
      const lessons = await overseer.lessons.list({
        ...(tag === undefined ? {} : { tag }),
        ...(jobId === undefined ? {} : { jobId }),
        ...(runId === undefined ? {} : { runId }),
        ...(cursor === undefined ? {} : { afterId: decodeCursor(cursor) }),
        limit: limit + 1,
      });
      return pageOf(lessons, limit);
    });

    app.get("/lessons/similar", { config: { scope: "viewer" }, schema: contract.similarLessons }, async (request) => {
      const { text, jobId, tags, limit } = request.query;
      return {
        items: await overseer.lessons.similar({
          unknownTags: "refuse",
          ...(text === undefined ? {} : { text }),
          ...(jobId === undefined ? {} : { jobId }),
          ...(tags === undefined ? {} : { tags: tags.split(",").filter((t) => t !== "") }),
          ...(limit === undefined ? {} : { limit: Number(limit) }),
        }),
      };
    });

    app.post(
      "/lessons/similar",
      { config: { scope: "viewer" }, schema: contract.similarLessonsByBody },
      async (request) => ({ items: await overseer.lessons.similar({ ...request.body, unknownTags: "refuse" }) }),
    );

    app.get("/lessons/:id", { config: { scope: "viewer" }, schema: contract.getLesson }, async (request) => ({
      lesson: await overseer.lessons.get(request.params.id),
    }));

    app.post(
      "/lessons/:id/delete",
      { config: { scope: "operator" }, schema: contract.deleteLesson },
      async (request, reply) => {
        await overseer.lessons.delete(request.params.id);
        reply.code(204);
      },
    );
  };
}
