import { describe, expect, it } from "vitest";
import { isPostgresUrl, maskUrl, printableDatabase } from "./database-url.js";

describe("printableDatabase", () => {
  it("masks a PostgreSQL URL's password and drops its query options", () => {
    expect(printableDatabase("postgres://ada:s3cret@db.example.com:5432/jobs?sslpassword=x")).toBe(
      "postgres://ada:***@db.example.com:5432/jobs",
    );
    expect(printableDatabase("postgresql://ada@db/jobs")).toBe("postgresql://ada@db/jobs");
    expect(printableDatabase("POSTGRES://ada:pw@db/jobs")).not.toContain("pw");
  });

  it("shows only the scheme of a URL it cannot parse, since the rest may hold a password", () => {
    expect(maskUrl("postgres://ada:s3cret@[bad/jobs")).toBe("postgres://…");
  });

  it("masks what may be a password in a mistyped URL, which is taken for a file name", () => {
    expect(printableDatabase("postgres:/ada:s3cret@db/jobs")).toBe("postgres:/***@db/jobs");
    expect(printableDatabase("postgress://ada:s3cret@db/jobs")).toBe("postgress://***@db/jobs");
    expect(printableDatabase("postgres:ada:s3cret@db")).toBe("postgres:***@db");
  });

  it("shows a SQLite path as given", () => {
    expect(printableDatabase("./data/overseer.db")).toBe("./data/overseer.db");
    expect(isPostgresUrl("./postgres://x.db")).toBe(false);
  });
});
