import { labSettings } from '../../lab/settings.ts'

/** Bootstrap addresses of the lab's two datacenters, as the integration tests see them. */
const settings = labSettings()
export const DC1 = settings.dcs[0].bootstrap
export const DC2 = settings.dcs[1].bootstrap
export const PARTITIONS = settings.partitions
