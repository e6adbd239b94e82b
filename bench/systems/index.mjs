// Registry of benchmarked systems. Adapters are imported lazily so that one
// system failing to load (e.g. Overseer not built yet) does not stop the others.
export const SYSTEMS = [
  { id: "overseer", kind: "overseer", load: async () => (await import("./overseer.mjs")).default },
  {
    id: "overseer-full",
    kind: "overseer-extra",
    load: async () => (await import("./overseer.mjs")).overseerSystem({ durability: "full" }),
  },
  {
    id: "overseer-pg",
    kind: "overseer-pg",
    load: async () => (await import("./overseer.mjs")).overseerPgSystem(),
  },
  { id: "bullmq", kind: "peer", load: async () => (await import("./bullmq.mjs")).default },
  { id: "pgboss", kind: "peer", load: async () => (await import("./pgboss.mjs")).default },
  { id: "graphile", kind: "peer", load: async () => (await import("./graphile.mjs")).default },
];

export async function loadSystem(id) {
  const entry = SYSTEMS.find((s) => s.id === id);
  if (!entry) throw new Error(`unknown system "${id}"`);
  return entry.load();
}
