# lme4 timings on this machine for the issue-14 speed benchmark peers.
#     Rscript tests/reference/speed/timings.R
# Writes tests/reference/speed/timings.json (see TIMINGS.md). InstEval is exported to a
# temporary CSV with export_insteval.R and read back, so R fits what a Python reader sees.
# The two GLMM benchmark data sets are simulated here (seeded, not committed); their
# generating process is recorded so the Python side can simulate the same design.
suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})
source("tests/reference/issue14_common.R")
here <- "tests/reference/speed"

best_of <- function(expr_fun, n = 3) {
  t <- numeric(0); w <- character(0)
  for (i in seq_len(n)) {
    r <- timed(expr_fun())
    t <- c(t, r$seconds); w <- c(w, r$warnings)
    fit <- r$value
  }
  list(fit = fit, seconds = t, warnings = unique(w))
}
summ <- function(call, b, data) {
  fit <- b$fit
  list(
    call = call,
    rows = nrow(data),
    "elapsed seconds (3 runs)" = vec(b$seconds),
    "best elapsed seconds" = min(b$seconds),
    "ngrps(fit)" = as.list(ngrps(fit)),
    "as.numeric(logLik(fit))" = as.numeric(logLik(fit)),
    "REMLcrit(fit)" = if (isREML(fit)) REMLcrit(fit) else NULL,
    "fixef(fit)" = named(fixef(fit)),
    "getME(fit, 'theta')" = named(getME(fit, "theta")),
    warnings = I(b$warnings)
  )
}

out <- list()

# ---- InstEval --------------------------------------------------------------------------
csv <- tempfile(fileext = ".csv")
system2("Rscript", c(file.path(here, "export_insteval.R"), csv), stdout = FALSE)
InstEval <- read.csv(csv, colClasses = c(rep("factor", 6), "integer"))
unlink(csv)
calls <- c(
  insteval_service = "lmer(y ~ service + (1 | s) + (1 | d) + (1 | dept:service), data = InstEval)",
  insteval_service_dept = "lmer(y ~ service * dept + (1 | s) + (1 | d), data = InstEval)"
)
for (nm in names(calls)) {
  cat("timing", nm, "\n")
  b <- best_of(function() eval(parse(text = calls[[nm]])))
  out[[nm]] <- summ(calls[[nm]], b, InstEval)
}

# ---- GLMM: real binary data (VerbAgg, crossed person x item) -------------------------------
verbagg <- lme4::VerbAgg
call <- "glmer(r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item), data = verbagg, family = binomial)"
cat("timing verbagg\n")
out$verbagg_binary <- summ(call, best_of(function() eval(parse(text = call))), verbagg)

# ---- GLMM: simulated attendance (binary) and session counts (Poisson) ------------------------
set.seed(20240614)
n_ther <- 100; n_cli <- 20; n_ses <- 12
sim <- expand.grid(session = 0:(n_ses - 1), client_in = seq_len(n_cli), therapist = seq_len(n_ther))
sim$client <- factor(paste(sim$therapist, sim$client_in, sep = "_"))
sim$therapist <- factor(sim$therapist)
u_t <- rnorm(n_ther, 0, 0.5); u_c <- rnorm(n_ther * n_cli, 0, 1.0)
ci <- as.integer(sim$client); ti <- as.integer(sim$therapist)
sim$session_c <- (sim$session - 5.5) / 10
eta <- 1.2 - 0.8 * sim$session_c + u_t[ti] + u_c[ci]
sim$attended <- rbinom(nrow(sim), 1, plogis(eta))
sim$count <- rpois(nrow(sim), exp(0.3 + 0.5 * sim$session_c + u_t[ti] + 0.6 * u_c[ci]))
dgp <- paste(
  "set.seed(20240614); 100 therapists x 20 clients x 12 sessions (0..11) = 24,000 rows;",
  "session_c = (session - 5.5)/10; therapist u_t ~ N(0, 0.5^2), client u_c ~ N(0, 1);",
  "attended ~ Bernoulli(plogis(1.2 - 0.8 session_c + u_t + u_c));",
  "count ~ Poisson(exp(0.3 + 0.5 session_c + u_t + 0.6 u_c)) (same u draws)")
calls <- c(
  attendance_binary = "glmer(attended ~ session_c + (1 | client) + (1 | therapist), data = sim, family = binomial)",
  attendance_binary_nAGQ0 = "glmer(attended ~ session_c + (1 | client) + (1 | therapist), data = sim, family = binomial, nAGQ = 0)",
  session_counts_poisson = "glmer(count ~ session_c + (1 | client) + (1 | therapist), data = sim, family = poisson)"
)
for (nm in names(calls)) {
  cat("timing", nm, "\n")
  out[[nm]] <- summ(calls[[nm]], best_of(function() eval(parse(text = calls[[nm]]))), sim)
  out[[nm]]$"simulated data" <- dgp
}

cpu <- tryCatch(trimws(sub(".*:", "", grep("model name", readLines("/proc/cpuinfo"), value = TRUE)[1])),
                error = function(e) NA)
res <- list(
  versions = versions_info(),
  script = "tests/reference/speed/timings.R",
  machine = list(cpu = cpu, "logical CPUs" = parallel::detectCores(),
                 "memory (GB)" = tryCatch(round(as.numeric(sub("kB", "", sub("MemTotal:", "",
                   grep("MemTotal", readLines("/proc/meminfo"), value = TRUE)))) / 1024^2, 1),
                   error = function(e) NA),
                 note = "single-threaded reference BLAS/LAPACK; lme4 default controls"),
  timings = out
)
write_ref(res, file.path(here, "timings.json"))
for (nm in names(out)) cat(sprintf("%-26s rows %6d  best %.2f s  (%s)\n", nm, out[[nm]]$rows,
                                   out[[nm]][["best elapsed seconds"]],
                                   paste(sprintf("%.2f", out[[nm]][["elapsed seconds (3 runs)"]]), collapse = ", ")))
