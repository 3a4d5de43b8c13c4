"use strict";
// Verify an embedcrm webhook (Standard Webhooks) with Node's standard library alone.
//
// Pass the body exactly as received (a Buffer or string), before any JSON parsing, e.g. with
// express.raw({ type: "application/json" }):
//
//   try {
//     const event = verify(secret, req.headers, req.body);
//   } catch (err) {
//     return res.status(400).end(); // never 500: a bad signature is not a crash
//   }
//
// While a secret rotates, webhook-signature carries one entry per secret, so the old and the new
// secret both verify.

const crypto = require("crypto");

const TOLERANCE_SECONDS = 5 * 60;

class WebhookVerificationError extends Error {
  constructor(message) {
    super(message);
    this.name = "WebhookVerificationError";
  }
}

function header(headers, name) {
  for (const [key, value] of Object.entries(headers || {})) {
    if (key.toLowerCase() === name) {
      return Array.isArray(value) ? value.join(" ") : String(value);
    }
  }
  throw new WebhookVerificationError(`missing ${name} header`);
}

function verify(secret, headers, body, options = {}) {
  const msgId = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp").trim();
  const signatures = header(headers, "webhook-signature");

  if (!/^[0-9]+$/.test(timestamp)) {
    throw new WebhookVerificationError("invalid webhook-timestamp header");
  }
  const now = options.now !== undefined ? options.now : Math.floor(Date.now() / 1000);
  const tolerance = options.tolerance !== undefined ? options.tolerance : TOLERANCE_SECONDS;
  // Refusing old messages stops a captured delivery from being replayed later.
  if (Math.abs(now - Number(timestamp)) > tolerance) {
    throw new WebhookVerificationError("webhook-timestamp outside the tolerance");
  }

  const raw = Buffer.isBuffer(body) ? body : Buffer.from(String(body), "utf8");
  const key = Buffer.from(String(secret).replace(/^whsec_/, ""), "base64");
  const expected = crypto
    .createHmac("sha256", key)
    .update(Buffer.concat([Buffer.from(`${msgId}.${timestamp}.`, "utf8"), raw]))
    .digest();

  for (const entry of signatures.split(/\s+/)) {
    const comma = entry.indexOf(",");
    if (comma < 0 || entry.slice(0, comma) !== "v1") {
      continue;
    }
    const encoded = entry.slice(comma + 1);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
      continue;
    }
    const candidate = Buffer.from(encoded, "base64");
    if (candidate.length === expected.length && crypto.timingSafeEqual(candidate, expected)) {
      try {
        return JSON.parse(raw.toString("utf8"));
      } catch (err) {
        throw new WebhookVerificationError("the body is not JSON");
      }
    }
  }
  throw new WebhookVerificationError("no matching signature");
}

module.exports = { verify, WebhookVerificationError };
