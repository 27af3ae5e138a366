import type { FaceAlertKind } from '../../db/schema.ts';
import type { NewAlert } from '../../db/repositories/facestreaming.repository.ts';
import type { ConsoleLinks } from '../../shared/contract/console-links.ts';
import { vigilNotificationKey, type AlertRoute, type Notification } from '../../shared/contract/messages.ts';

const TEMPLATES: Record<FaceAlertKind, string> = {
  impersonation: 'face_impersonation_suspected',
  absence: 'face_absence',
  unknown_person: 'face_unknown_person',
};

/**
 * The notification for one alert. Its idempotency key is derived from the snapshot and the
 * kind, so a republished alert (a retry, `vigil rescue`) is sent once by the notifier; it is
 * in Vigil's namespace (`vigil:`), bound there to the content, so a producer that guessed
 * it first cannot make this alert a duplicate.
 * Without a configured route it is kept in `face_alert` as `unrouted`.
 * With `links` (`CONSOLE_URL` set) it carries the console's deep link to the snapshot,
 * `reviewUrl`, and an absence also the employee's page, `employeeUrl`: the email shows them,
 * a webhook gets them in its data as they are.
 */
export function buildAlert(kind: FaceAlertKind, route: AlertRoute, data: { lanId: string; streamImgId: number; captureTime: Date } & Record<string, unknown>, links?: ConsoleLinks): NewAlert {
  const notification: Notification = {
    channel: route.channel,
    to: route.to,
    template: TEMPLATES[kind],
    data: {
      ...data, kind, captureTime: data.captureTime.toISOString(),
      ...(links && { reviewUrl: links.snapshot(data.streamImgId) }),
      ...(links && kind === 'absence' && { employeeUrl: links.employee(data.lanId) }),
    },
    idempotencyKey: vigilNotificationKey(`face-${kind}-${data.streamImgId}`),
  };
  return { kind, state: route.to.length > 0 ? 'pending' : 'unrouted', notification };
}
