-- A reference to a Patient is stored once, as a patient row, on the types
-- whose subject is the union of patient (sqldb/union.go, subjectTypes):
-- the subject rows that repeat a patient row of the same resource go.
-- Searches read both either way; this only gives the space back (reused
-- by later writes).
DELETE FROM idx_reference
  WHERE ref_type = 'Patient'
  AND pid IN (SELECT pid FROM search_params WHERE code = 'subject' AND type IN (
    'Account', 'Basic', 'CarePlan', 'CareTeam', 'ChargeItem', 'ClinicalImpression', 'Communication',
    'CommunicationRequest', 'Composition', 'Condition', 'Contract', 'DeviceRequest', 'DeviceUseStatement',
    'DiagnosticReport', 'DocumentManifest', 'DocumentReference', 'Encounter', 'EnrollmentRequest', 'Flag',
    'Goal', 'GuidanceResponse', 'ImagingStudy', 'Invoice', 'List', 'MeasureReport', 'Media',
    'MedicationAdministration', 'MedicationDispense', 'MedicationRequest', 'MedicationStatement',
    'Observation', 'Procedure', 'QuestionnaireResponse', 'RequestGroup', 'RiskAssessment',
    'ServiceRequest', 'Specimen', 'Task'))
  AND EXISTS (SELECT 1 FROM idx_reference p
    WHERE p.rid = idx_reference.rid
    AND p.pid = (SELECT q.pid FROM search_params q JOIN search_params s ON s.type = q.type WHERE s.pid = idx_reference.pid AND q.code = 'patient')
    AND p.ref_id = idx_reference.ref_id AND p.ref_type = idx_reference.ref_type);
