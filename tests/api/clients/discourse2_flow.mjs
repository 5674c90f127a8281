// A script written against Discourse with the npm client `discourse2`, pointed at this forum
// (tests/api/test_clients.py runs it against a live server):
// list, read a topic with its raw text, reply, back off on a 429, read and clear notifications.
//
// Environment: FORUM_URL, API_KEY, API_USERNAME, TOPIC_ID. Prints one JSON object.
import Discourse, { HTTPError } from "discourse2";

const discourse = new Discourse(process.env.FORUM_URL, {
  "Api-Key": process.env.API_KEY,
  "Api-Username": process.env.API_USERNAME,
});
const topicId = Number(process.env.TOPIC_ID);
const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

// Discourse's rate limits answer 429 with extras.wait_seconds: wait that long, then try again.
async function politely(call, report) {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof HTTPError) || error.status !== 429) throw error;
      // discourse2 has read the body already: it ends its HTTPError's message.
      const marker = `Returned HTTP ${error.status}: `;
      const body = JSON.parse(error.message.slice(error.message.lastIndexOf(marker) + marker.length));
      const wait = body.extras.wait_seconds;
      report.waited.push({ wait_seconds: wait, retry_after: error.response.headers.get("retry-after") });
      await sleep(wait + 0.5);
    }
  }
  throw new Error("still rate limited after 5 attempts");
}

const report = { waited: [] };

const latest = await discourse.listLatestTopics({ order: "created", ascending: "false", per_page: 10 });
report.latest_ids = latest.topic_list.topics.map((topic) => topic.id);

const topic = await discourse.getTopic({ id: String(topicId) });
report.title = topic.title;
// discourse2's getTopic has no include_raw: read each post's raw text with getPost, as its users do.
report.raws = [];
for (const post of topic.post_stream.posts) {
  const full = await discourse.getPost({ id: String(post.id) });
  report.raws.push(full.raw);
}

const reply = await politely(
  () => discourse.createTopicPostPM({ topic_id: topicId, raw: "Hotspots went out with every laptop.", reply_to_post_number: 1 }),
  report,
);
report.reply = { id: reply.id, post_number: reply.post_number, raw: reply.raw };
// A second reply at once runs into the posting interval: the client must wait, then succeed.
const second = await politely(
  () => discourse.createTopicPostPM({ topic_id: topicId, raw: "And the libraries kept their opening hours." }),
  report,
);
report.second = { id: second.id, post_number: second.post_number };

const notifications = await discourse.getNotifications();
report.notifications_before = notifications.notifications.filter((row) => !row.read).length;
await discourse.markNotificationsAsRead({});
const after = await discourse.getNotifications();
report.notifications_after = after.notifications.filter((row) => !row.read).length;

process.stdout.write(JSON.stringify(report));
