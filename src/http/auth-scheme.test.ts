/**
 * The Authorization scheme is case-insensitive (RFC 7235 §2.1): `bearer`, `BEARER` and `Bearer`
 * are the same, and one or more spaces may follow it. What follows must still be a token.
 */
import { expect, it } from "vitest";
import { testApi } from "../test-support/http.js";

it("takes the bearer scheme in any case, and still refuses what is not a token", async () => {
  const api = await testApi();
  const token = api.tokens.viewer;
  for (const header of [
    `Bearer ${token}`,
    `bearer ${token}`,
    `BEARER ${token}`,
    `bEaReR ${token}`,
    `Bearer   ${token}`,
  ]) {
    const res = await api.request("GET", "/api/v1/whoami", { headers: { authorization: header } });
    expect(res.status, header).toBe(200);
    expect(res.body.scope, header).toBe("viewer");
  }
  for (const header of [`Basic ${token}`, `Bearer${token}`, `Bearer ${token} x`, "bearer", `Token ${token}`]) {
    const res = await api.request("GET", "/api/v1/whoami", { headers: { authorization: header } });
    expect(res.status, header).toBe(401);
    expect(res.body.error.code, header).toBe("UNAUTHENTICATED");
  }
});
