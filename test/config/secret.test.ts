import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { configSchema, REDACTED, redactSecrets } from '../../src/config/schema.ts'
import { validateConfig } from '../../src/config/validate.ts'
import { policies } from '../../src/merge/index.ts'
import { Type } from '../../src/schema/schema.ts'

/** Secret keys planted in a schema of its own, in every position a key can sit. */
const planted = Type.Object({
  name: Type.String(),
  kafka: Type.Object({
    password: Type.String({ secret: true }),
    sasl: Type.Object({ user: Type.String(), token: Type.String({ secret: true }) })
  }),
  clusters: Type.Array(Type.Object({ host: Type.String(), key: Type.String({ secret: true }) })),
  keys: Type.Array(Type.String({ secret: true }))
})

describe('secret keys', () => {
  it('are shown as REDACTED wherever they sit, in objects and in lists; the rest is kept', () => {
    const value = {
      name: 'dc1',
      kafka: { password: 'hunter2', sasl: { user: 'u', token: 't0k3n' } },
      clusters: [{ host: 'a', key: 'k1' }, { host: 'b', key: 'k2' }],
      keys: ['s1', 's2']
    }
    const shown = redactSecrets(value, planted)
    assert.deepEqual(shown, {
      name: 'dc1',
      kafka: { password: REDACTED, sasl: { user: 'u', token: REDACTED } },
      clusters: [{ host: 'a', key: REDACTED }, { host: 'b', key: REDACTED }],
      keys: [REDACTED, REDACTED]
    })
    for (const s of ['hunter2', 't0k3n', 'k1', 'k2', 's1', 's2']) assert.ok(!JSON.stringify(shown).includes(s), s)
    assert.equal(value.kafka.password, 'hunter2', 'the value itself is not changed')
  })

  it('leave a secret that is not set as it is (unset, null or empty), so the output shows it is missing', () => {
    const shown = redactSecrets({ kafka: { password: '', sasl: { user: 'u' } } }, planted) as { kafka: { password: string, sasl: object } }
    assert.deepEqual(shown, { kafka: { password: '', sasl: { user: 'u' } } })
  })

  it('change nothing in a configuration of today\'s schema, which has no secret key', () => {
    const config = validateConfig({ dc: 'dc1', peers: ['dc2'], kafka: { brokers: ['127.0.0.1:9092'] }, topics: [{ name: 'orders', policy: 'lww' }] }, { policies })
    assert.deepEqual(redactSecrets(config, configSchema(policies)), JSON.parse(JSON.stringify(config)))
  })
})

describe('the SASL password of the real schema', () => {
  it('is secret: redacted from the resolved configuration, the other SASL keys kept', () => {
    const config = validateConfig({
      dc: 'dc1',
      peers: ['dc2'],
      kafka: { brokers: ['h:1'], sasl: { mechanism: 'scram-sha-512', username: 'concord', password: 'planted-secret-42' } },
      topics: [{ name: 'orders', policy: 'lww' }]
    }, { policies })
    const shown = redactSecrets(config, configSchema(policies)) as { kafka: { sasl: Record<string, unknown> } }
    assert.deepEqual(shown.kafka.sasl, { mechanism: 'scram-sha-512', username: 'concord', password: REDACTED, passwordFile: '' })
    assert.ok(!JSON.stringify(shown).includes('planted-secret-42'))
  })
})
