# Formula idioms as a user writes them in lmer / glmer (issue 14), on data that ship with
# lme4, nlme, mlmRev and glmmTMB.
#
# Run from the repository root:
#     Rscript tests/reference/formula_idioms/idioms.R
# Writes the data CSVs (exported from the R packages, then READ BACK from the CSV, so R fits
# exactly the numbers a Python reader sees) and tests/reference/formula_idioms/idioms.json.
#
# Every entry of idioms.json:
#   call        the exact R call, evaluated as written (data frames named as the CSV stems)
#   data_file   the CSV (its factor columns are listed under data[<file>]$factors)
#   result      the best tight fit (see issue14_common.R): fixef, SEs, coef(summary()),
#               theta, VarCorr, logLik / REMLcrit, model-matrix column names and first rows
#   fitting     every optimiser candidate, the lme4-default fit, warnings
#   transform   for scale() / poly() etc.: the attributes R stores for the transformation
#   glmmTMB     (glmer idioms) the same call fitted by glmmTMB: a cross-check of fixef, SE
#               (exact AD Hessian) and logLik
suppressPackageStartupMessages({
  library(lme4)
  library(glmmTMB)
  library(jsonlite)
})
source("tests/reference/issue14_common.R")
here <- "tests/reference/formula_idioms"

# ---- data: export from the packages, read back --------------------------------------
exports <- list(
  sleepstudy = list(data = lme4::sleepstudy, source = "lme4::sleepstudy",
                    factors = c("Subject")),
  cbpp = list(data = lme4::cbpp, source = "lme4::cbpp", factors = c("herd", "period")),
  contraception = list(data = mlmRev::Contraception, source = "mlmRev::Contraception",
                       factors = c("woman", "district", "use", "livch", "urban")),
  ovary = list(data = as.data.frame(nlme::Ovary)[, c("Mare", "Time", "follicles")],
               source = "nlme::Ovary (as.data.frame; Mare written as its label)",
               factors = c("Mare")),
  owls = list(data = glmmTMB::Owls[, c("Nest", "FoodTreatment", "SexParent", "ArrivalTime",
                                       "SiblingNegotiation", "BroodSize")],
              source = "glmmTMB::Owls (columns NegPerChick and logBroodSize dropped)",
              factors = c("Nest", "FoodTreatment", "SexParent")),
  pastes = list(data = lme4::Pastes, source = "lme4::Pastes",
                factors = c("batch", "cask", "sample")),
  grouseticks = list(data = lme4::grouseticks[, c("INDEX", "TICKS", "BROOD", "HEIGHT", "YEAR",
                                                  "LOCATION")],
                     source = "lme4::grouseticks (column cHEIGHT dropped)",
                     factors = c("INDEX", "BROOD", "YEAR", "LOCATION"))
)
data_meta <- list()
for (nm in names(exports)) {
  e <- exports[[nm]]
  d <- e$data
  for (v in names(d)) if (is.factor(d[[v]])) d[[v]] <- as.character(d[[v]])
  file <- paste0(nm, ".csv")
  write.csv(d, file.path(here, file), row.names = FALSE)
  back <- read.csv(file.path(here, file), stringsAsFactors = FALSE)
  for (v in e$factors) back[[v]] <- factor(back[[v]])
  assign(nm, back, envir = globalenv())
  data_meta[[file]] <- list(
    source = e$source,
    nrow = nrow(back),
    columns = names(back),
    "read as" = paste0("read.csv(file, stringsAsFactors = FALSE); then factor() on: ",
                       paste(e$factors, collapse = ", ")),
    factors = as.list(e$factors),
    "levels (R order; first is the reference)" = factor_levels(back)
  )
}

# ---- the idioms -------------------------------------------------------------------------
idioms <- list(
  list(id = "I_power", idiom = "I(x^2)",
       call = "lmer(Reaction ~ Days + I(Days^2) + (Days | Subject), data = sleepstudy)"),
  list(id = "I_power_ML", idiom = "I(x^2), ML",
       call = "lmer(Reaction ~ Days + I(Days^2) + (Days | Subject), data = sleepstudy, REML = FALSE)"),
  list(id = "I_logical", idiom = "I(x > c) (logical column named ...TRUE)",
       call = "lmer(Reaction ~ Days + I(Days > 4) + (1 | Subject), data = sleepstudy)"),
  list(id = "scale", idiom = "scale(x) in fixed and random parts (n - 1 SD)",
       call = "lmer(Reaction ~ scale(Days) + (1 + scale(Days) | Subject), data = sleepstudy)",
       transform = function() {
         s <- scale(sleepstudy$Days)
         list("attr(scale(sleepstudy$Days), 'scaled:center')" = attr(s, "scaled:center"),
              "attr(scale(sleepstudy$Days), 'scaled:scale')" = attr(s, "scaled:scale"),
              "sd(sleepstudy$Days)" = sd(sleepstudy$Days),
              "as.numeric(scale(sleepstudy$Days))[1:5]" = as.numeric(s)[1:5])
       }),
  list(id = "scale_center_only", idiom = "scale(x, scale = FALSE)",
       call = "lmer(Reaction ~ scale(Days, scale = FALSE) + (1 | Subject), data = sleepstudy)",
       transform = function() {
         s <- scale(sleepstudy$Days, scale = FALSE)
         list("attr(scale(sleepstudy$Days, scale = FALSE), 'scaled:center')" =
                attr(s, "scaled:center"))
       }),
  list(id = "factor_numeric", idiom = "factor(x) of a numeric column",
       call = "lmer(Reaction ~ factor(Days) + (1 | Subject), data = sleepstudy)"),
  list(id = "poly", idiom = "poly(x, 2) (orthogonal)",
       call = "lmer(Reaction ~ poly(Days, 2) + (Days | Subject), data = sleepstudy)",
       transform = function() {
         p <- poly(sleepstudy$Days, 2)
         list("attr(poly(sleepstudy$Days, 2), 'coefs')$alpha" = attr(p, "coefs")$alpha,
              "attr(poly(sleepstudy$Days, 2), 'coefs')$norm2" = attr(p, "coefs")$norm2,
              "colSums(poly(sleepstudy$Days, 2)^2)" = vec(colSums(p^2)),
              "unname(predict(poly(sleepstudy$Days, 2), 0:9)) (rows = Days 0..9)" =
                unname(predict(p, 0:9)))
       }),
  list(id = "poly_raw", idiom = "poly(x, 2, raw = TRUE)",
       call = "lmer(Reaction ~ poly(Days, 2, raw = TRUE) + (Days | Subject), data = sleepstudy)"),
  list(id = "log_response", idiom = "log(y)",
       call = "lmer(log(Reaction) ~ Days + (Days | Subject), data = sleepstudy)"),
  list(id = "log_predictor", idiom = "log(x + 1)",
       call = "lmer(Reaction ~ log(Days + 1) + (1 | Subject), data = sleepstudy)"),
  list(id = "exp_predictor", idiom = "exp(-x/3)",
       call = "lmer(Reaction ~ exp(-Days/3) + (1 | Subject), data = sleepstudy)"),
  list(id = "sqrt", idiom = "sqrt(y) ~ sqrt(x)",
       call = "lmer(sqrt(Reaction) ~ sqrt(Days) + (1 | Subject), data = sleepstudy)"),
  list(id = "sin_cos", idiom = "sin(2*pi*t) + cos(2*pi*t)",
       call = "lmer(follicles ~ sin(2*pi*Time) + cos(2*pi*Time) + (1 | Mare), data = ovary)"),
  list(id = "double_bar", idiom = "(x || g) (uncorrelated intercept and slope)",
       call = "lmer(Reaction ~ Days + (Days || Subject), data = sleepstudy)"),
  list(id = "two_terms_same_group", idiom = "(1 | g) + (0 + x | g), same as ||",
       call = "lmer(Reaction ~ Days + (1 | Subject) + (0 + Days | Subject), data = sleepstudy)"),
  list(id = "nested_slash", idiom = "(1 | a/b) = (1 | a) + (1 | a:b)",
       call = "lmer(strength ~ 1 + (1 | batch/cask), data = pastes)"),
  list(id = "nested_colon", idiom = "(1 | a) + (1 | a:b), written out",
       call = "lmer(strength ~ 1 + (1 | batch) + (1 | batch:cask), data = pastes)"),
  list(id = "cbind_binomial", idiom = "cbind(successes, failures) binomial response",
       call = "glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), data = cbpp, family = binomial)"),
  list(id = "proportion_weights", idiom = "proportion response with weights = trials (same model as cbind)",
       call = "glmer(incidence/size ~ period + (1 | herd), data = cbpp, weights = size, family = binomial)"),
  list(id = "factor_response_YN", idiom = "two-level factor response N/Y (second level = 1)",
       call = "glmer(use ~ age + urban + (1 | district), data = contraception, family = binomial)"),
  list(id = "I_power_glmer", idiom = "I(x^2) in glmer",
       call = "glmer(use ~ age + I(age^2) + urban + livch + (1 | district), data = contraception, family = binomial)"),
  list(id = "poly_glmer", idiom = "poly(x, 2) in glmer",
       call = "glmer(use ~ poly(age, 2) + urban + livch + (1 | district), data = contraception, family = binomial)",
       transform = function() {
         p <- poly(contraception$age, 2)
         list("attr(poly(contraception$age, 2), 'coefs')$alpha" = attr(p, "coefs")$alpha,
              "attr(poly(contraception$age, 2), 'coefs')$norm2" = attr(p, "coefs")$norm2)
       }),
  list(id = "relevel", idiom = "relevel(f, ref = ...) on string factors",
       call = "glmer(use ~ age + relevel(factor(livch), ref = \"3+\") + relevel(urban, ref = \"Y\") + (1 | district), data = contraception, family = binomial)"),
  list(id = "offset_log", idiom = "offset(log(t)) in a Poisson glmer",
       call = "glmer(SiblingNegotiation ~ FoodTreatment + offset(log(BroodSize)) + (1 | Nest), data = owls, family = poisson)"),
  list(id = "offset_argument", idiom = "offset = log(t) argument (same model as offset())",
       call = "glmer(SiblingNegotiation ~ FoodTreatment + (1 | Nest), offset = log(BroodSize), data = owls, family = poisson)"),
  list(id = "scale_glmer", idiom = "scale(x) in a Poisson glmer, crossed terms",
       call = "glmer(TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | LOCATION), data = grouseticks, family = poisson)",
       transform = function() {
         s <- scale(grouseticks$HEIGHT)
         list("attr(scale(grouseticks$HEIGHT), 'scaled:center')" = attr(s, "scaled:center"),
              "attr(scale(grouseticks$HEIGHT), 'scaled:scale')" = attr(s, "scaled:scale"))
       })
)

data_file_of <- function(call) {
  stem <- regmatches(call, regexpr("data = [a-z]+", call))
  paste0(sub("data = ", "", stem), ".csv")
}

# What R does with a character (not factor) response: record the error.
contraception_chr <- contraception
contraception_chr$use <- as.character(contraception_chr$use)
chr_err <- tryCatch(
  {glmer(use ~ age + urban + (1 | district), data = contraception_chr, family = binomial); "no error"},
  error = function(e) conditionMessage(e)
)

entries <- list()
for (it in idioms) {
  cat("fitting", it$id, "\n")
  res <- fit_mer(it$call)
  entry <- list(
    id = it$id,
    idiom = it$idiom,
    call = it$call,
    data_file = data_file_of(it$call),
    result = res$info,
    fitting = res$record
  )
  if (!is.null(it$transform)) entry$transform <- it$transform()
  if (grepl("^glmer\\(", it$call)) {
    tm <- fit_tmb(tmb_call_of(it$call))
    ti <- tmb_info(tm$fit)
    entry$glmmTMB <- c(tm$record, list(result = ti), compare_tmb(res$info, ti))
  }
  entries[[it$id]] <- entry
}

notes <- list(
  "column names" = paste(
    "R names model-matrix columns by deparsing each term: spaces are normalised",
    "('sin(2 * pi * Time)', 'exp(-Days/3)', 'log(Days + 1)', 'I(Days^2)'),",
    "factor columns append the level ('factor(Days)1', 'relevel(urban, ref = \"Y\")N'),",
    "logicals append TRUE ('I(Days > 4)TRUE'), poly appends the degree ('poly(Days, 2)1')."),
  "scale" = paste(
    "scale(x) = (x - mean(x)) / sd(x) with sd using n - 1; the centre and scale come from",
    "the model frame's rows (all rows here: no NAs). scale(x, scale = FALSE) only centres."),
  "poly" = paste(
    "poly(x, 2) is the orthogonal basis of stats::poly: columns have mean 0, are mutually",
    "orthogonal and have unit Euclidean norm (sum of squares 1, not n); signs follow the",
    "QR of the raw powers. attr(, 'coefs') (alpha, norm2) regenerates it for new data.",
    "poly(x, 2, raw = TRUE) is simply x and x^2."),
  "factor response" = paste(
    "glmer with a factor response codes the FIRST level as 0 and every other level as 1",
    "(levels sorted as R's factor() sorts strings, so 'N' = 0, 'Y' = 1).",
    "A character response is an error in glmer:", chr_err),
  "cbind response" = paste(
    "cbind(s, f) ~ ... is binomial with trials n = s + f: lme4 stores y = s/n and",
    "prior weights n (weights(fit) = n). incidence/size ~ ..., weights = size is the same",
    "model with identical estimates and logLik."),
  "logLik of a binomial glmer" = paste(
    "-2*logLik(fit) = sum over rows of -2*log dbinom(s, n, mu) (including the log choose",
    "term) + sum(u^2) + log det(L)^2 (Laplace). deviance(fit) for a GLMM is NOT -2*logLik:",
    "it is sum(residuals(fit, 'deviance')^2), recorded separately."),
  "vcov of glmer" = paste(
    "vcov(fit) for glmer (lme4 1.1-31) uses the finite-difference Hessian of the deviance",
    "over (theta, beta) when available: V = beta-block of 2 * solve(H). That accounts for",
    "the uncertainty in theta. vcov(fit, use.hessian = FALSE) is the RX-based version",
    "(theta held fixed), recorded as 'sqrt(diag(vcov(fit, use.hessian = FALSE)))'."),
  "theta order" = paste(
    "getME(fit, 'theta'): random-effect terms are ordered by decreasing number of levels of",
    "their grouping factor (ties keep formula order); within a term, theta is the lower",
    "triangle of the relative Cholesky factor, column by column; for lmer it is relative",
    "to sigma, for binomial/Poisson glmer it is absolute."),
  "nested" = paste(
    "(1 | batch/cask) expands to (1 | batch) + (1 | batch:cask); the interaction grouping",
    "factor is named 'cask:batch' in VarCorr and flist (lme4 writes the inner factor",
    "first), while the written-out (1 | batch:cask) keeps 'batch:cask'.")
)

out <- list(
  versions = versions_info(),
  script = "tests/reference/formula_idioms/idioms.R",
  notes = notes,
  data = data_meta,
  idioms = unname(entries)
)
write_ref(out, file.path(here, "idioms.json"))

for (e in entries) {
  w <- e$fitting[["warnings (tight bobyqa fit)"]]
  best <- e$fitting[["best optimizer"]]
  crit <- if (is.null(e$result[["REMLcrit(fit)"]])) e$result[["-2 * logLik(fit)"]] else e$result[["REMLcrit(fit)"]]
  cat(sprintf("%-22s best=%-11s crit=%.8f warn_tight=%d warn_default=%d sing=%s\n", e$id, best,
              crit, length(w),
              length(e$fitting[["default fit"]]$warnings), e$result[["isSingular(fit)"]]))
}
