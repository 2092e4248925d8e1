import { waitForText } from '../harness/wait';
import type { Suite } from '../harness/fixture';
import { SPEC_MS } from '../harness/fixture';
import { ConfigPage } from '../pages/configPage';

export function configSpecs(suite: Suite): void {
  describe('Configuration page', () => {
    it(
      'shows the saved settings, tests them with Save & test, and says when the token is wrong',
      async () => {
        const host = await suite.tab('admin');
        // The wrong token: the sidecar's 401, passed on by the proxy.
        host.allow(/^\/api\/plugin-proxy\/betrace-app\/sidecar\/api\/v1\/rules$/, 401);
        const config = new ConfigPage(host);
        await config.open();
        expect(await config.sidecarUrl.inputValue()).toBe(suite.stack.sidecar.api);
        expect(await config.token.inputValue()).toBe('configured');
        await waitForText(config.tempo, 'Tempo');

        await config.saveAndTest();
        await waitForText(config.result, 'Connected');
        await waitForText(config.result, 'accepted the token');
        await host.screenshot('config-connected');

        await config.resetToken('not-the-token');
        await config.saveAndTest();
        await waitForText(config.result, 'Token refused');
        await host.screenshot('config-token-refused');
        // The secret reached the stand-in's settings, and the proxy injected it (the sidecar said 401).
        expect(suite.stack.grafana.settings.secureJsonData.sidecarToken).toBe('not-the-token');

        await config.resetToken(suite.stack.sidecar.token);
        await config.saveAndTest();
        await waitForText(config.result, 'Connected');
      },
      SPEC_MS
    );
  });
}
