// node-redis with its default options (HELLO handshake) against PORT: PING, ECHO, CLIENT
// SETNAME/GETNAME. Usage: node node_redis_client.js NODE_DIR PORT. Prints the version and the
// results; exits 0 only if every reply is as expected.
const path = require("path");
const [nodeDir, port] = process.argv.slice(2);
const modules = path.join(nodeDir, "node_modules");
const { createClient } = require(path.join(modules, "redis"));
const version = require(path.join(modules, "redis", "package.json")).version;

async function main() {
  const client = createClient({ url: `redis://127.0.0.1:${port}` });
  client.on("error", (error) => console.log("error event: " + error.message));
  await client.connect();
  const results = [
    await client.ping(),
    await client.echo("hello world"),
    await client.clientSetName("node-redis-test"),
    await client.clientGetName(),
  ];
  await (client.close ? client.close() : client.quit());
  console.log(`node-redis ${version}: ${results.join(" | ")}`);
  const expected = ["PONG", "hello world", "OK", "node-redis-test"];
  process.exit(JSON.stringify(results) === JSON.stringify(expected) ? 0 : 1);
}

setTimeout(() => { console.log("node-redis: timed out"); process.exit(2); }, 20000).unref();
main().catch((error) => { console.log("node-redis failed: " + error.stack); process.exit(1); });
