// Chat services: Slack (incoming webhook, or chat.postMessage with a bot token), Discord and Rocket
// (Slack-compatible attachments), Microsoft Teams (Adaptive Card, or the legacy MessageCard for
// *.webhook.office.com connectors) and Google Chat (cards). Payloads as Flux's notifiers build them.
import { EventMetadata } from '../../api/names.ts';
import { send } from './send.ts';
import {
  type Notification,
  type Notifier,
  objectName,
  type ProviderSettings,
  sortedMetadata,
} from './types.ts';

const isError = (n: Notification) => n.severity === 'error';

/** A URL the provider posts to; a bad one is a configuration error, named with the provider type. */
export function requireUrl(s: ProviderSettings, what: string): URL {
  try {
    const u = new URL(s.address);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    return u;
  } catch {
    throw new Error(
      s.addressIsSecret
        ? `invalid ${what} URL in the Secret's address`
        : `invalid ${what} URL '${s.address}'`,
    );
  }
}

/** Slack's message attachment, which Discord and Rocket.Chat accept too. */
function slackAttachment(n: Notification, color: string, fallback: string) {
  return {
    fallback,
    color,
    author_name: objectName(n),
    text: n.message,
    mrkdwn_in: ['text'],
    fields: sortedMetadata(n).map(([title, value]) => ({ title, value, short: false })),
  };
}

export function slack(s: ProviderSettings): Notifier {
  const url = requireUrl(s, 'Slack hook');
  // The Web API always answers 200; its JSON says whether the message was posted.
  const webApi = url.pathname.endsWith('/api/chat.postMessage');
  return {
    async post(n, signal) {
      const fallback = `${objectName(n)}: ${n.message.split('\n')[0]}`;
      const payload = {
        channel: s.channel ?? '',
        username: s.username || n.reportingController,
        icon_url: '',
        icon_emoji: '',
        attachments: [slackAttachment(n, isError(n) ? 'danger' : 'good', fallback)],
      };
      const headers = s.token ? { authorization: `Bearer ${s.token}` } : undefined;
      const res = await send(s, url.toString(), signal, { json: payload, headers });
      if (!webApi) return;
      let answer: { ok?: boolean; error?: string };
      try {
        answer = JSON.parse(res.body.toString('utf8'));
      } catch (err) {
        throw new Error(`unable to unmarshal response body: ${(err as Error).message}`);
      }
      if (!answer.ok) throw new Error(`Slack responded with error: ${answer.error ?? 'unknown'}`);
    },
  };
}

export function discord(s: ProviderSettings): Notifier {
  const url = requireUrl(s, 'Discord hook');
  // Discord's Slack-compatible endpoint.
  if (!s.address.endsWith('/slack')) url.pathname = `${url.pathname.replace(/\/$/, '')}/slack`;
  return {
    async post(n, signal) {
      const payload = {
        channel: '',
        username: s.username || n.reportingController,
        icon_url: '',
        icon_emoji: '',
        attachments: [slackAttachment(n, isError(n) ? 'danger' : 'good', '')],
      };
      await send(s, url.toString(), signal, { json: payload });
    },
  };
}

export function rocket(s: ProviderSettings): Notifier {
  const url = requireUrl(s, 'Rocket hook');
  return {
    async post(n, signal) {
      const payload = {
        channel: s.channel ?? '',
        username: s.username ?? '',
        icon_url: '',
        icon_emoji: '',
        attachments: [slackAttachment(n, isError(n) ? '#FF0000' : '#0076D7', '')],
      };
      await send(s, url.toString(), signal, { json: payload });
    },
  };
}

/** Teams' legacy Office 365 connector card. */
function messageCard(n: Notification) {
  const name = objectName(n);
  return {
    '@type': 'MessageCard',
    '@context': 'http://schema.org/extensions',
    themeColor: isError(n) ? 'FF0000' : '0076D7',
    summary: name,
    sections: [
      {
        activityTitle: n.message,
        activitySubtitle: name,
        facts: sortedMetadata(n).map(([name, value]) => ({ name, value })),
      },
    ],
  };
}

/** An Adaptive Card 1.4 (the highest Teams renders): the object, the message, then the metadata. */
function adaptiveCard(n: Notification) {
  const key = EventMetadata.summary;
  const summary = n.metadata[key];
  const facts = [
    ...(summary !== undefined ? [{ title: key, value: summary }] : []),
    ...sortedMetadata(n)
      .filter(([k]) => k !== key)
      .map(([title, value]) => ({ title, value })),
  ];
  const message = {
    type: 'TextBlock',
    text: n.message,
    wrap: true,
    ...(isError(n) ? { color: 'attention' } : {}),
  };
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          msteams: { width: 'Full' },
          body: [
            {
              type: 'Container',
              items: [
                { type: 'TextBlock', text: objectName(n), size: 'large', weight: 'bolder', wrap: true },
                message,
                { type: 'FactSet', facts },
              ],
            },
          ],
        },
      },
    ],
  };
}

export function msteams(s: ProviderSettings): Notifier {
  const url = requireUrl(s, 'MS Teams webhook');
  const legacy = url.hostname.endsWith('.webhook.office.com');
  return {
    async post(n, signal) {
      await send(s, url.toString(), signal, { json: legacy ? messageCard(n) : adaptiveCard(n) });
    },
  };
}

export function googlechat(s: ProviderSettings): Notifier {
  const url = requireUrl(s, 'Google Chat hook');
  return {
    async post(n, signal) {
      const text = isError(n) ? `<font color="#ff0000">${n.message}</font>` : n.message;
      const sections: unknown[] = [{ widgets: [{ textParagraph: { text } }] }];
      const meta = sortedMetadata(n);
      if (meta.length > 0)
        sections.push({
          widgets: meta.map(([topLabel, content]) => ({
            keyValue: { topLabel, content, contentMultiline: false },
          })),
        });
      const header = { title: objectName(n), subtitle: n.reportingController };
      await send(s, url.toString(), signal, { json: { cards: [{ header, sections }] } });
    },
  };
}
