"""Video consultations and family video calls: records, queue, signaling relay, FHIR export."""
