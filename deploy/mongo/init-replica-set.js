// Initiates the MongoDB replica set rs0 and creates (or updates) the Serambi users.
// Idempotent: run it after every deploy and after rotating a password (docs/operations.md).
//
//   mongosh --host <first member> -u root -p <root password> --authenticationDatabase admin \
//           --file init-replica-set.js
//
// Environment:
//   MONGO_MEMBERS               host:port of every member, comma separated; the first one
//                               initiates the set and is preferred as primary
//   MONGO_<SERVICE>_PASSWORD    for intake, scheduling, complaints, notifier: readWrite on its
//                               own database serambi_<service> and on the shared personal-data
//                               key vault serambi_vault (serambi_kit.pii), nothing else
//   MONGO_OPS_PASSWORD          operator commands: readWrite on those five databases (read-model
//                               rebuilds, dead letters, erasure), backup and restore, monitoring
//
// Members are added one at a time after initiating with the first: a member that already has
// data (each one creates the root user at first start) cannot be part of rs.initiate, but is
// wiped and resynchronised when added.

const SET = "rs0";
const SERVICES = ["intake", "scheduling", "complaints", "notifier"];
const VAULT = "serambi_vault";
const members = (process.env.MONGO_MEMBERS || "").split(",").filter(Boolean);
if (members.length === 0) throw new Error("MONGO_MEMBERS is empty");

function retry(what, action, attempts = 60) {
  for (let attempt = 1; ; attempt++) {
    try {
      return action();
    } catch (error) {
      if (attempt >= attempts) throw new Error(`${what}: ${error.message}`);
      sleep(1000);
    }
  }
}

function initiated() {
  try {
    rs.status();
    return true;
  } catch (error) {
    if (error.codeName === "NotYetInitialized") return false;
    throw error;
  }
}

if (!initiated()) {
  print(`initiating ${SET} with ${members[0]}`);
  rs.initiate({ _id: SET, members: [{ _id: 0, host: members[0], priority: 2 }] });
}
retry("waiting to be primary", () => {
  if (!db.hello().isWritablePrimary) throw new Error("not primary yet");
});

for (const host of members.slice(1)) {
  if (rs.conf().members.some((member) => member.host === host)) continue;
  print(`adding ${host}`);
  retry(`adding ${host}`, () => {
    const reply = rs.add({ host: host, priority: 1 });
    if (reply.ok !== 1) throw new Error(JSON.stringify(reply));
  });
}

const admin = db.getSiblingDB("admin");
function upsertUser(name, password, roles) {
  if (!password) throw new Error(`no password for user ${name}`);
  if (admin.getUser(name)) {
    admin.updateUser(name, { pwd: password, roles: roles });
    print(`user ${name}: updated`);
  } else {
    admin.createUser({ user: name, pwd: password, roles: roles });
    print(`user ${name}: created`);
  }
}

for (const service of SERVICES) {
  upsertUser(service, process.env[`MONGO_${service.toUpperCase()}_PASSWORD`], [
    { role: "readWrite", db: `serambi_${service}` },
    { role: "readWrite", db: VAULT },
  ]);
}
upsertUser("ops", process.env.MONGO_OPS_PASSWORD, [
  ...SERVICES.map((service) => ({ role: "readWrite", db: `serambi_${service}` })),
  { role: "readWrite", db: VAULT },
  { role: "backup", db: "admin" },
  { role: "restore", db: "admin" },
  { role: "clusterMonitor", db: "admin" },
]);
print(`${SET}: ${rs.status().members.map((m) => `${m.name} ${m.stateStr}`).join(", ")}`);
