// Patched by cepheus scripts/patch-dependencies.js: one pass instead of copying the list per message
// (tulios/kafkajs#1576). Same result as kafkajs 2.2.4's reduce.
module.exports = ({ topic, partitionMetadata, messages, partitioner }) => {
  if (partitionMetadata.length === 0) {
    return {}
  }

  const result = {}
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message })
    const current = result[partition]
    if (current) current.push(message)
    else result[partition] = [message]
  }
  return result
}
