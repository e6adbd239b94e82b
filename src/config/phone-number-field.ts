/**
 * A phone number field of the config file (a person's `phone`, an `sms` or `voice` channel's
 * `from` and `to`): E.164, `+` then 8 to 15 digits, as phone providers take it. A bad value is
 * refused saying the form, and what was given.
 */
import { z } from "zod";
import { PHONE_NUMBER, PHONE_NUMBER_RULE } from "../core/people.js";

export const phoneNumberField = z.string({ error: PHONE_NUMBER_RULE }).superRefine((value, ctx) => {
  if (!PHONE_NUMBER.test(value))
    ctx.addIssue({ code: "custom", message: `${PHONE_NUMBER_RULE}, got ${JSON.stringify(value)}` });
});
