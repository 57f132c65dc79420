// Events and Alerts as the notification unit tests build them.
import type { Alert } from '../../../controllers/api/notification.ts';
import type { NotificationEvent } from '../../../controllers/notification/event.ts';

export const sha = '0123456789abcdef0123456789abcdef01234567';

export function event(over: Partial<NotificationEvent> = {}): NotificationEvent {
  return {
    involvedObject: {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      name: 'apps',
      namespace: 'flux-system',
    },
    severity: 'error',
    timestamp: '2026-01-02T03:04:05Z',
    message: 'kustomization path not found',
    reason: 'ArtifactFailed',
    metadata: { 'kustomize.toolkit.fluxcd.io/revision': `main@sha1:${sha}` },
    reportingController: 'kustomize-controller',
    reportingInstance: 'kc-1',
    ...over,
  };
}

export const alert = (spec: Partial<Alert['spec']> = {}): Alert =>
  ({
    apiVersion: 'notification.toolkit.fluxcd.io/v1beta3',
    kind: 'Alert',
    metadata: { name: 'a', namespace: 'flux-system' },
    spec: { providerRef: { name: 'p' }, eventSources: [], ...spec },
  }) as Alert;
