// Send Bellwether's SDK scenario with an official Node SDK.
// Usage: node send_scenario.mjs {segment|rudder} HOST WRITE_KEY PREFIX
// Same scenario as ../python/send_scenario.py; exits non-zero on any delivery error.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [sdk, host, writeKey, prefix] = process.argv.slice(2);
const errors = [];

function segmentClient() {
  const { Analytics } = require('@segment/analytics-node');
  const client = new Analytics({ writeKey, host, maxRetries: 2, flushInterval: 200 });
  client.on('error', (error) => errors.push(String(error?.reason ?? error?.code ?? error)));
  return { client, done: () => client.closeAndFlush({ timeout: 10000 }) };
}

function rudderClient() {
  const Analytics = require('@rudderstack/rudder-sdk-node');
  const client = new Analytics(writeKey, {
    dataPlaneUrl: host,
    flushInterval: 200,
    retryCount: 2,
    errorHandler: (error) => errors.push(String(error)),
  });
  return { client, done: () => client.flush() };
}

const { client, done } = sdk === 'segment' ? segmentClient() : rudderClient();
const user = `${prefix}-user`;
const anon = `${prefix}-anon`;
const legacy = `${prefix}-legacy`;
client.page({ anonymousId: anon, name: 'Pricing', properties: { path: '/pricing' } });
client.identify({
  userId: user,
  anonymousId: anon,
  traits: { email: `${prefix}@example-${prefix}.io`, plan: 'trial', role: 'champion' },
});
client.track({ userId: user, event: 'Demo Requested', properties: { source: sdk } });
client.group({ userId: user, groupId: `${prefix}-acct`, traits: { name: `${prefix} Inc`, employees: 420 } });
client.track({ anonymousId: legacy, event: 'Email Opened', properties: { campaign: 'launch' } });
client.alias({ previousId: legacy, userId: user });
client.screen({ userId: user, name: 'Dashboard', properties: { tab: 'overview' } });
await done();
if (errors.length > 0) {
  console.error('delivery errors:', errors);
  process.exit(1);
}
console.log('sent');
