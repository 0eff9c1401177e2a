// The one import of kafkajs' runtime in the project: the patch must be in place before kafkajs loads.
import './kafkajs-patch.ts'
import kafkajs from 'kafkajs'

export default kafkajs
