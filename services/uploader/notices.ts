import type { UploadRecord } from '../../db/repositories/uploader.repository.ts';
import { vigilNotificationKey, type Notification, type UploadJob } from '../../shared/contract/messages.ts';

export interface SpeakerNotice {
  speakerIndex: number;
  notification: Notification;
}

/**
 * One `video_published` email per speaker with an address, once every target is done:
 * the Facebook link first when there is one. The idempotency key names the job's first
 * upload row and the speaker, so a republished notice is sent once by the notifier; it is
 * in Vigil's own namespace, so a producer that sends the same key first silences nothing.
 */
export function speakerNotices(job: UploadJob, rows: readonly UploadRecord[]): SpeakerNotice[] {
  const links: { library?: string; facebook?: string } = {};
  for (const r of rows) if (r.url !== null) links[r.target] = r.url;
  const url = links.facebook ?? links.library;
  const firstId = Math.min(...rows.map((r) => r.id));
  return (job.speakers ?? []).flatMap((speaker, i) =>
    speaker.email === undefined
      ? []
      : [{
          speakerIndex: i,
          notification: {
            channel: 'email' as const,
            to: [speaker.email],
            template: 'video_published',
            data: { name: speaker.name, title: job.title, url, links },
            idempotencyKey: vigilNotificationKey(`upload-${firstId}-${i}`),
          },
        }],
  );
}
